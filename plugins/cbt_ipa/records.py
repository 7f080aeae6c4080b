"""This plugin's stored bookings and sessions for the core's dashboard, calendar and ICS
feed (hooks ``provider_due_items`` / ``provider_sessions``). The core offers them only for
providers using its own booking pages; cbt_ipa has its own, so it lists them itself,
linking to its pages. Attempts are core rows, already offered by the core."""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlmodel import select

from portal import db
from portal.models import Booking, BookingDeadline, Candidate, ExamSession
from portal.rules import DueItem, Msg, SessionItem

PROVIDER_ID = "cbt_ipa"


def due_items(organization_id: int, start: datetime, end: datetime) -> list[DueItem]:
    rows = db.session().exec(
        select(BookingDeadline, Booking, Candidate)
        .join(Booking, Booking.id == BookingDeadline.booking_id)
        .join(Candidate, Candidate.id == Booking.candidate_id)
        .where(BookingDeadline.organization_id == organization_id, Booking.provider == PROVIDER_ID,
               Booking.status == "booked", BookingDeadline.at >= start, BookingDeadline.at < end,
               BookingDeadline.at >= Booking.booked_at)).all()  # one already past when booked is closed, never due
    return [DueItem(provider=PROVIDER_ID, kind=d.kind, at=d.at, rule=d.rule,
                    explanation=Msg(d.explanation_ja, d.explanation_en or d.explanation_ja),
                    subject=f"{c.display_name} — {b.exam}", url=url_for("cbt_ipa.detail", booking_id=b.id),
                    uid=f"{PROVIDER_ID}-{d.kind}-booking-{b.id}")
            for d, b, c in rows]


def sessions(organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
    rows = db.session().exec(select(ExamSession).where(
        ExamSession.organization_id == organization_id, ExamSession.provider == PROVIDER_ID,
        ExamSession.start >= start, ExamSession.start < end).order_by(ExamSession.start)).all()
    return [SessionItem(provider=PROVIDER_ID, exam=s.exam, start=s.start, end=s.end, label=f"{s.exam} {s.venue}",
                        url=url_for("cbt_ipa.book", session=s.id, exam=s.exam), uid=f"{PROVIDER_ID}-session-{s.id}",
                        seats_left=s.seats_left)
            for s in rows]
