"""HTML form values → the rules API's request shape, so the UI and the API share one
parser (portal.api.policy_facts) and one set of error messages. Which fields are sent is
the provider's choice (its declared calculator facts, :mod:`portal.facts`)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from portal.inputs import DB_INT_MAX
from portal.rules import BadInput, Fact, Msg



def datetime_local(value: str) -> str:
    """``<input type=datetime-local>`` gives ``YYYY-MM-DDTHH:MM`` (Japan time here);
    a bare date means its start."""
    value = value.strip()
    if len(value) == 10:
        value += "T00:00"
    return value + "+09:00" if value and "+" not in value[10:] and not value.endswith("Z") else value


def int_field(form: Mapping[str, str], name: str, maximum: int = DB_INT_MAX) -> int | None:
    """A whole number of at most ``maximum`` (by default what an INTEGER column holds)."""
    raw = (form.get(name) or "").replace(",", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput("invalid_field", Msg("半角数字で入力してください。", "Enter digits only."), name)
    if len(raw) > 12 or int(raw) > maximum:
        raise BadInput("invalid_field", Msg(f"{maximum:,}以下の数を入力してください。",
                                            f"Enter a number no greater than {maximum:,}."), name)
    return int(raw)


def _payment(form: Mapping[str, str]) -> dict[str, Any] | None:
    if not form.get("payment_method"):
        return None
    payment: dict[str, Any] = {"method": form["payment_method"], "paid": form.get("paid") in ("on", "true", "1")}
    amount = int_field(form, "amount")
    if amount is not None:
        payment["amount"] = amount
    if form.get("payment_due"):
        payment["due"] = datetime_local(form["payment_due"])
    return payment


def _value(fact: Fact, form: Mapping[str, str]) -> Any:
    name = fact.name
    if fact.kind == "payment":
        return _payment(form)
    if fact.kind == "items":  # one line of the chosen exam: [{"exam": …, "count": n}]
        count = int_field(form, f"{name}_count")
        return [{"exam": form.get("exam"), "count": count}] if count else None
    if fact.kind == "attempts":
        start = form.get(f"{name}_start", "").strip()
        if not start:
            return None
        start = datetime_local(start)
        return [{"start": start, "end": start, "outcome": form.get(f"{name}_outcome") or "failed"}]
    raw = form.get(name)
    if fact.kind == "boolean":
        return raw in ("on", "true", "1") if raw is not None else None
    if not raw or not raw.strip():
        return None
    if fact.kind == "datetime":
        return datetime_local(raw)
    if fact.kind == "integer":
        return int_field(form, name)
    return raw.strip()


#: Every contract fact, for callers that do not know the provider (kept for compatibility).
def _all_contract_facts() -> list[Fact]:
    from portal.facts import CONTRACT_FACTS
    return list(CONTRACT_FACTS.values())


def form_to_contract(form: Mapping[str, str], facts: Iterable[Fact] | None = None) -> dict[str, Any]:
    """The request body of the provider's declared ``facts`` filled in on the form."""
    body: dict[str, Any] = {}
    for fact in (facts if facts is not None else _all_contract_facts()):
        value = _value(fact, form)
        if value is not None:
            body[fact.name] = value
    return body
