"""The core's bookings, sessions and attempts, offered through the collecting hooks for
every provider that uses them (``ProviderInfo.bookings``)."""
from __future__ import annotations

from datetime import datetime
from functools import cache

from flask import url_for
from sqlalchemy import Integer, bindparam
from sqlmodel import select

from portal import db
from portal.models import Attempt, Booking, BookingDeadline, Candidate, ExamSession
from portal.plugins import hookimpl
from portal.urls import id_url
from portal.rules import AttemptRecord, DueItem, Msg, SessionItem


@cache
def _due_query(by_kind: bool, limited: bool):
    """The dashboard's statement, built once per shape (the values are bound per call):
    booking_deadline (organization_id, at) indexed, ordered, cut by ``limit``."""
    query = (select(BookingDeadline.kind, BookingDeadline.at, BookingDeadline.rule, BookingDeadline.explanation_ja,
                    BookingDeadline.explanation_en, Booking.id, Booking.exam, Candidate.family_name, Candidate.given_name)
             .join(Booking, Booking.id == BookingDeadline.booking_id)
             .join(Candidate, Candidate.id == Booking.candidate_id)
             .where(BookingDeadline.organization_id == bindparam("organization_id"),
                    Booking.provider == bindparam("provider"), Booking.status == "booked",
                    BookingDeadline.at >= bindparam("start"), BookingDeadline.at < bindparam("end"),
                    BookingDeadline.at >= Booking.booked_at)  # one already past when booked is closed, never due
             .order_by(BookingDeadline.at, BookingDeadline.id))
    if by_kind:
        query = query.where(BookingDeadline.kind == bindparam("kind"))
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


@hookimpl
def provider_due_items(ctx, organization_id: int, start: datetime, end: datetime, limit: int | None,
                       kind: str | None):
    """One indexed query (booking_deadline (organization_id, at)), ordered and cut by ``limit``;
    plain rows on the session's connection (no ORM objects are loaded)."""
    if not ctx.provider.bookings:
        return []
    provider = ctx.provider.id
    params = {"organization_id": organization_id, "provider": provider, "start": start, "end": end}
    if kind:
        params["kind"] = kind
    if limit is not None:
        params["limit"] = limit
    detail = id_url("bookings.detail", "booking_id")
    return [DueItem(provider=provider, kind=kind_, at=at, rule=rule, explanation=Msg(ja, en or ja),
                    subject=f"{family} {given} — {exam}", url=detail(booking_id),
                    uid=f"{provider}-{kind_}-booking-{booking_id}")
            for kind_, at, rule, ja, en, booking_id, exam, family, given
            in db.session().connection().execute(_due_query(bool(kind), limit is not None), params)]


@hookimpl
def provider_sessions(ctx, organization_id: int, start: datetime, end: datetime):
    if not ctx.provider.bookings:
        return []
    rows = db.session().exec(select(ExamSession).where(
        ExamSession.organization_id == organization_id, ExamSession.provider == ctx.provider.id,
        ExamSession.start >= start, ExamSession.start < end).order_by(ExamSession.start)).all()
    return [SessionItem(provider=ctx.provider.id, exam=s.exam, start=s.start, end=s.end,
                        label=f"{s.exam} {s.venue}", uid=f"{ctx.provider.id}-session-{s.id}",
                        url=url_for("bookings.book", provider_id=ctx.provider.id, session=s.id), seats_left=s.seats_left)
            for s in rows]


@hookimpl
def provider_attempts(ctx, organization_id: int, candidate_id: int):
    rows = db.session().exec(select(Attempt).where(
        Attempt.organization_id == organization_id, Attempt.candidate_id == candidate_id,
        Attempt.provider == ctx.provider.id).order_by(Attempt.start)).all()
    return [AttemptRecord(a.exam, a.start, a.end, a.outcome) for a in rows]


@hookimpl
def provider_recompute_plan(ctx, organization_id: int):
    """Every provider's core ``Booking`` rows, whichever pages book them (the core's when
    ``bookings`` is set, or a plugin's own pages on the core tables)."""
    from portal.recompute import plan_booking_deadlines
    return plan_booking_deadlines(db.session(), ctx, organization_id)


@hookimpl
def provider_recompute_apply(ctx, organization_id: int, changes):
    from portal.recompute import apply_booking_deadlines
    return apply_booking_deadlines(db.session(), organization_id, changes)


@hookimpl
def provider_recompute_records(ctx, organization_id: int, records):
    from portal.recompute import describe_bookings
    return describe_bookings(db.session(), ctx, organization_id, records)


@hookimpl
def portal_housekeeping(now: datetime):
    from portal.bookings import expire_lapsed
    from portal.lifecycle import close_ended_exams
    from portal.retention import purge_candidates
    session = db.session()
    return [f"bookings expired: {expire_lapsed(session, None, now)}",
            f"bookings whose exam is over: {close_ended_exams(session, None, now)}",
            f"candidates' personal data purged: {purge_candidates(session, now)}"]
