"""Bookings on exam sessions: rule contexts, stored deadlines, and the public entry points
of the booking lifecycle (:mod:`portal.lifecycle` holds the state machine).

Every rule decision comes from the provider's hooks through :mod:`portal.providers`;
this module only keeps the stored state consistent with those answers. Each public
function is one unit of work run inside :func:`portal.db.transaction` by its caller.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlmodel import Session, select

from portal import recompute, rule_context
from portal.models import Booking, BookingDeadline, ExamSession
from portal.models import ACTIVE_STATUSES as ACTIVE
from portal.providers import RuleContext
from portal.rules import DeadlineQuery, PolicyDecision
from portal.providers import current as providers


# --------------------------------------------------------------------------- context


# The organisation's rules (closures, settings, catalog) and the cached rule context built
# from them live in portal.rule_context; these names stay here for their many callers.

closure_rules = rule_context.closure_rules
settings = rule_context.settings
catalog = rule_context.catalog
org_context = rule_context.org_context


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
    # a deadline already past when booked is closed: it is never the "next" one
    booking.next_deadline_at = min((d.at for d in answers if d.at >= booking.booked_at), default=None)
    db.add(booking)


def recompute_deadlines(db: Session, organization_id: int, provider_id: str) -> int:
    """Closures, settings or catalog changed: every plugin's stored deadlines follow
    (plan, then apply: :mod:`portal.recompute`). Returns how many deadlines changed."""
    return recompute.recompute(db, org_context(db, organization_id, provider_id), organization_id)


def recompute_booking_deadlines(db: Session, ctx: RuleContext, organization_id: int) -> int:
    """Recompute the stored deadlines of the provider's active bookings (set-based)."""
    return recompute.apply_booking_deadlines(db, organization_id,
                                             recompute.plan_booking_deadlines(db, ctx, organization_id))


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
