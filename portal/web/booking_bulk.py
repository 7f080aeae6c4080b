"""The bookings list's export and its bulk actions (select rows → mark paid / export).

Both read the list's own query (:func:`portal.web.bookings.booking_query`), so what is
exported or acted on is what the screen shows under the same filters. Each booking in a
bulk action goes through the booking lifecycle (:func:`portal.bookings.mark_paid`) in its
own transaction with its own audit entry; what was refused is said, booking by booking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import select

from portal import bookings as service
from portal import db, exports, notify
from portal.labels import deadline_label, payment_label, status_label
from portal.models import Booking
from portal.rules import Msg, RuleError
from portal.scoping import org_id
from portal.web.bookings import _booking_provider, booking_query, deadlines_for, list_response

bp = Blueprint("booking_bulk", __name__)
MAX_SELECTED = 500


def _deadline_text(deadlines) -> str:
    return " / ".join(f"{deadline_label(d.kind)} {exports.cell(d.at):%Y-%m-%d %H:%M} ({d.rule})" for d in deadlines)


COLUMNS = (
    exports.Column(_l("予約ID"), lambda r: r.booking.id),
    exports.Column(_l("受験者"), lambda r: r.candidate.display_name),
    exports.Column(_l("カナ"), lambda r: f"{r.candidate.family_kana} {r.candidate.given_kana}".strip()),
    exports.Column(_l("試験"), lambda r: r.booking.exam),
    exports.Column(_l("試験日時"), lambda r: r.session.start),
    exports.Column(_l("会場"), lambda r: r.session.venue),
    exports.Column(_l("支払方法"), lambda r: payment_label(r.booking.payment_method, r.booking.provider)),
    exports.Column(_l("入金済み"), lambda r: r.booking.paid),
    exports.Column(_l("金額"), lambda r: r.booking.amount),
    exports.Column(_l("状態"), lambda r: status_label(r.booking.status)),
    exports.Column(_l("次の期限"), lambda r: r.booking.next_deadline_at),
    exports.Column(_l("期限"), lambda r: _deadline_text(r.deadlines)),
    exports.Column(_l("予約日時"), lambda r: r.booking.booked_at),
)


@dataclass(frozen=True)
class ExportRow:
    booking: Any
    session: Any
    candidate: Any
    deadlines: list


def _selected_ids(values: list[str]) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit()})[:MAX_SELECTED]


def _rows(query) -> Iterator[ExportRow]:
    """The query's rows with their deadlines, loaded once per batch (no query per row)."""
    for batch in exports.batched(exports.stream_query(query)):
        deadlines = deadlines_for([b.id for b, _, _ in batch])
        for b, s, c in batch:
            yield ExportRow(b, s, c, deadlines[b.id])


def export_bookings(name: str, fmt: str, query) -> Any:
    """CSV / .xlsx of core bookings for a query of ``(Booking, ExamSession, Candidate)``
    rows; a plugin with its own bookings list calls this (same columns as the core's)."""
    return exports.export_response(name, fmt, COLUMNS, _rows(query))


@bp.get("/providers/<provider_id>/bookings/export.<fmt>")
def export(provider_id: str, fmt: str):
    """The list as CSV / .xlsx under the screen's filters; ``?booking=`` (repeated)
    narrows it to the selected rows."""
    _booking_provider(provider_id)
    query, _ = booking_query(provider_id, request.args)
    selected = _selected_ids(request.args.getlist("booking"))
    if selected:
        query = query.where(Booking.id.in_(selected))
    return export_bookings(f"bookings-{provider_id}", fmt, query)


# --------------------------------------------------------------------------- bulk actions


NOT_SELECTED = Msg("予約を選んでください。", "Select at least one booking.")
ALREADY_PAID = Msg("入金済みです。", "Already paid.")
NOT_ACTIVE = Msg("有効な予約ではありません。", "Not an active booking.")


@dataclass
class BulkOutcome:
    done: list[Any]
    refused: list[tuple[Any, Msg]]


def mark_paid_all(booking_ids: list[int], user_id: int) -> BulkOutcome:
    """Mark each selected booking paid through the lifecycle; one transaction and one
    audit entry per booking, so a refusal of one leaves the others done."""
    outcome = BulkOutcome([], [])
    rows = db.session().exec(select(Booking).where(Booking.organization_id == org_id(),
                                                   Booking.id.in_(booking_ids)).order_by(Booking.id)).all()
    for booking in rows:
        if booking.status != "booked":
            outcome.refused.append((booking, NOT_ACTIVE))
            continue
        if booking.paid:
            outcome.refused.append((booking, ALREADY_PAID))
            continue
        try:
            with db.transaction() as s:
                service.mark_paid(s, booking, user_id)
        except RuleError as exc:  # a lost race or the lifecycle's refusal
            db.session().refresh(booking)
            outcome.refused.append((booking, exc.message))
            continue
        outcome.done.append(booking)
    return outcome


@bp.post("/providers/<provider_id>/bookings/bulk")
def bulk(provider_id: str):
    """Apply ``action`` to the selected rows and answer with the list (same filters) and
    a summary of what was done and what was refused."""
    info = _booking_provider(provider_id)
    selected = _selected_ids(request.form.getlist("booking"))
    summary: dict[str, Any] = {"error": None, "done": [], "refused": []}
    if request.form.get("action") != "paid":
        summary["error"] = Msg("操作を選んでください。", "Choose an action.")
    elif not selected:
        summary["error"] = NOT_SELECTED
    else:
        owned = set(db.session().exec(select(Booking.id).where(
            Booking.organization_id == org_id(), Booking.provider == info.id, Booking.id.in_(selected))).all())
        outcome = mark_paid_all([i for i in selected if i in owned], current_user.id)
        summary["done"], summary["refused"] = outcome.done, outcome.refused
        if outcome.done:
            notify.success(Msg(f"{len(outcome.done)}件を入金済みにしました。",
                               f"{len(outcome.done)} booking(s) marked paid."))
    names = _names([b.candidate_id for b, _ in summary["refused"]])
    return list_response(info, request.form, status=422 if summary["error"] else 200, bulk_summary=summary,
                         names=names)


def _names(candidate_ids: list[int]) -> dict[int, str]:
    from portal.models import Candidate
    if not candidate_ids:
        return {}
    return {c.id: c.display_name for c in db.session().exec(select(Candidate).where(Candidate.id.in_(candidate_ids))).all()}
