"""Bookings on exam sessions: rule contexts, stored deadlines, and the public entry points
of the booking lifecycle (:mod:`portal.lifecycle` holds the state machine).

Every rule decision comes from the provider's hooks through :mod:`portal.providers`;
this module only keeps the stored state consistent with those answers. Each public
function is one unit of work run inside :func:`portal.db.transaction` by its caller.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Iterable

from sqlmodel import Session, select

from portal.models import (
    Booking, BookingDeadline, CatalogEntry, ClosureDay, ExamSession, ProviderSettingValue,
)
from portal.models import ACTIVE_STATUSES as ACTIVE
from portal.providers import RuleContext
from portal.rules import Exam, ClosureRule, DeadlineQuery, Msg, PolicyDecision
from portal.providers import current as providers


# --------------------------------------------------------------------------- context


def closure_rules(db: Session, organization_id: int, provider_id: str) -> list[ClosureRule]:
    rows = db.exec(select(ClosureDay).where(ClosureDay.organization_id == organization_id,
                                            ClosureDay.provider == provider_id)).all()
    return [ClosureRule(r.start_date, r.end_date, Msg(r.label_ja, r.label_en or r.label_ja), r.yearly) for r in rows]


def settings(db: Session, organization_id: int, provider_id: str) -> dict:
    rows = db.exec(select(ProviderSettingValue).where(ProviderSettingValue.organization_id == organization_id,
                                                      ProviderSettingValue.provider == provider_id)).all()
    return {r.key: r.value for r in rows if not r.key.startswith("_")}  # "_…" keys are the core's own


def catalog(db: Session, organization_id: int, provider_id: str) -> list[Exam]:
    """The organisation's catalog: the plugin's own (hook ``provider_catalog``) or the
    plugin's catalog data with the organisation's edits and additions applied."""
    base = providers().default_context(provider_id)
    own = providers().catalog(base, organization_id)
    if own is not None:
        return list(own)
    edits = {e.code: e for e in db.exec(select(CatalogEntry).where(
        CatalogEntry.organization_id == organization_id, CatalogEntry.provider == provider_id)).all()}
    exams = []
    for exam in providers().info(provider_id).exams:
        edit = edits.pop(exam.code, None)
        exams.append(exam if edit is None else replace(
            exam, name=edit.name, price=edit.price, duration_minutes=edit.duration_minutes or exam.duration_minutes))
    exams.extend(Exam(e.code, e.name, e.price, e.duration_minutes) for e in edits.values())
    return exams


def org_context(db: Session, organization_id: int, provider_id: str) -> RuleContext:
    """The provider's rules as this organisation configured them (closures, settings, catalog)."""
    return providers().context(provider_id, closure_rules(db, organization_id, provider_id),
                               settings(db, organization_id, provider_id), catalog(db, organization_id, provider_id))


# --------------------------------------------------------------------------- seats

from portal.lifecycle import SeatTaken, release_seat, take_seat  # noqa: E402,F401  (public names)


# --------------------------------------------------------------------------- deadlines


def store_deadlines(db: Session, ctx: RuleContext, booking: Booking, exam_session: ExamSession) -> None:
    for old in db.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking.id)).all():
        db.delete(old)
    db.flush()
    answers = providers().deadlines(ctx, DeadlineQuery(exam_session.exam, exam_session.start))
    for d in answers:
        db.add(BookingDeadline(organization_id=booking.organization_id, booking_id=booking.id, kind=d.kind, at=d.at,
                               rule=d.rule, explanation_ja=d.explanation.ja, explanation_en=d.explanation.en))
    booking.next_deadline_at = min((d.at for d in answers), default=None)
    db.add(booking)


def recompute_deadlines(db: Session, organization_id: int, provider_id: str) -> int:
    """Closures, settings or catalog changed: every plugin recomputes what it stores
    (hook ``provider_recompute``; the core's bookings below through the default plugin)."""
    return providers().recompute(org_context(db, organization_id, provider_id), organization_id)


def recompute_booking_deadlines(db: Session, ctx: RuleContext, organization_id: int) -> int:
    """Recompute the stored deadlines of the provider's active bookings."""
    provider_id = ctx.provider.id
    rows = db.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == organization_id, Booking.provider == provider_id, Booking.status.in_(ACTIVE))).all()
    for booking, exam_session in rows:
        store_deadlines(db, ctx, booking, exam_session)
    return len(rows)


# --------------------------------------------------------------------------- lifecycle
# The transitions live in portal.lifecycle (state machine, provider decision, guarded
# UPDATEs); these are the stable public entry points.

from portal.lifecycle import (  # noqa: E402,F401  (public names)
    NewBooking, RefundAccountInput, facts_for, policy_for,
)


def book(db: Session, organization_id: int, user_id: int | None, data: NewBooking, **kwargs) -> Booking:
    from portal import lifecycle
    return lifecycle.book(db, organization_id, user_id, data, **kwargs)


def change(db: Session, booking: Booking, new_session_id: int, user_id: int | None, **kwargs) -> PolicyDecision:
    from portal import lifecycle
    return lifecycle.change(db, booking, new_session_id, user_id, **kwargs)


def cancel(db: Session, booking: Booking, user_id: int | None, account: RefundAccountInput | None,
           **kwargs) -> PolicyDecision:
    from portal import lifecycle
    return lifecycle.cancel(db, booking, user_id, account, **kwargs)


def mark_paid(db: Session, booking: Booking, user_id: int | None, **kwargs) -> None:
    from portal import lifecycle
    lifecycle.mark_paid(db, booking, user_id, **kwargs)


def complete_refund(db: Session, booking: Booking, user_id: int | None, **kwargs) -> None:
    from portal import lifecycle
    lifecycle.complete_refund(db, booking, user_id, **kwargs)


def expire_lapsed(db: Session, organization_id: int | None = None, at: datetime | None = None) -> int:
    from portal import lifecycle
    return lifecycle.expire_lapsed(db, organization_id, at)


def record_outcome(db: Session, booking: Booking, outcome: str, user_id: int | None, **kwargs):
    from portal import lifecycle
    return lifecycle.record_outcome(db, booking, outcome, user_id, **kwargs)


def active_bookings(rows: Iterable[Booking]) -> list[Booking]:
    return [b for b in rows if b.status in ACTIVE]
