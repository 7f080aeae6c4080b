"""Rule answers as the contract's JSON shapes (also used by the HTMX partials)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal.rules import CancelDecision, ChangeDecision, Deadline, Quote, RetakeDecision, jst


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return jst(value).isoformat()
    return value.isoformat()


def deadline_json(d: Deadline, lang: str) -> dict[str, Any]:
    return {"kind": d.kind, "at": iso(d.at), "rule": d.rule, "explanation": d.explanation.text(lang)}


def retake_json(r: RetakeDecision, lang: str) -> dict[str, Any]:
    return {"allowed": r.allowed, "earliest": iso(r.earliest), "rule": r.rule, "explanation": r.explanation.text(lang)}


def quote_json(q: Quote, lang: str) -> dict[str, Any]:
    answer = {
        "lines": [{"label": line.label.text(lang), "unit_price": line.unit_price, "count": line.count, "amount": line.amount}
                  for line in q.lines],
        "total": q.total, "rule": q.rule, "explanation": q.explanation.text(lang),
    }
    answer.update(q.extra)
    return answer


def change_json(c: ChangeDecision, lang: str) -> dict[str, Any]:
    return {"allowed": c.allowed, "until": iso(c.until), "requires": list(c.requires),
            "last_selectable_date": iso(c.last_selectable_date), "rule": c.rule, "explanation": c.explanation.text(lang)}


def cancel_json(c: CancelDecision, lang: str) -> dict[str, Any]:
    return {"allowed": c.allowed, "until": iso(c.until), "refund": c.refund,
            "voucher_reusable_at": iso(c.voucher_reusable_at), "rule": c.rule, "explanation": c.explanation.text(lang)}
