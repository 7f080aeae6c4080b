"""The recompute plan of the core's stored booking deadlines (``booking_deadline``), for
every provider whose bookings are core ``Booking`` rows (its own pages or the core's).

Deadlines depend only on the provider's rules, the exam and the session start, so the plan
asks the provider once per distinct (exam, start) and compares the answers with the stored
rows in one read; applying it is a few executemany statements guarded on the old values.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from flask import url_for
from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlmodel import Session

from portal import guard
from portal.models import Booking, BookingDeadline, Candidate, ExamSession
from portal.providers import RuleContext, current as providers
from portal.recompute import DeadlineChange, by_store
from portal.rules import DeadlineQuery, Msg, RuleError

STORE = "booking_deadline"
ACTIVE = ("booked",)

CHANGED_MEANWHILE = guard.Conflict("deadlines_changed", Msg(
    "期限の再計算中に予約が変更されたため、保存していません。もう一度お試しください。",
    "A booking changed while its deadlines were being recomputed, so nothing was saved. Try again."))


def _booking_url(provider_id: str, booking_id: int) -> str | None:
    endpoint = providers().info(provider_id).booking_endpoint or "bookings.detail"
    try:
        return url_for(endpoint, booking_id=booking_id)
    except RuntimeError:  # no request (a script): no link
        return None


def plan(db: Session, ctx: RuleContext, organization_id: int) -> list[DeadlineChange]:
    provider_id = ctx.provider.id
    rows = db.execute(
        select(Booking.id, Booking.exam, ExamSession.start, Candidate.family_name, Candidate.given_name,
               BookingDeadline.id, BookingDeadline.kind, BookingDeadline.at, BookingDeadline.rule,
               BookingDeadline.explanation_ja, BookingDeadline.explanation_en)
        .join(ExamSession, ExamSession.id == Booking.session_id)
        .join(Candidate, Candidate.id == Booking.candidate_id)
        .outerjoin(BookingDeadline, BookingDeadline.booking_id == Booking.id)
        .where(Booking.organization_id == organization_id, Booking.provider == provider_id,
               Booking.status.in_(ACTIVE))
    ).all()
    bookings: dict[int, tuple] = {}
    stored: dict[int, dict[str, tuple]] = defaultdict(dict)
    for booking_id, exam, start, family, given, row_id, kind, at, rule, ja, en in rows:
        bookings[booking_id] = (exam, start, f"{family} {given}")
        if row_id is not None:
            stored[booking_id][kind] = (row_id, at, rule, Msg(ja, en or ja))
    answers: dict[tuple, dict | None] = {}
    changes = []
    for booking_id, (exam, start, name) in bookings.items():
        key = (exam, start)
        if key not in answers:
            try:
                answers[key] = {d.kind: d for d in providers().deadlines(ctx, DeadlineQuery(exam, start))}
            except RuleError:  # the new rules give no answer for it: the stored deadlines stay
                answers[key] = None
        new = answers[key]
        if new is None:
            continue
        old = stored.get(booking_id, {})
        url = None
        for kind in sorted(set(old) | set(new)):
            row_id, old_at, old_rule, old_why = old.get(kind, (None, None, "", Msg("", "")))
            d = new.get(kind)
            new_at, rule, why = (d.at, d.rule, d.explanation) if d else (None, old_rule, old_why)
            if (old_at, old_rule, old_why) == (new_at, rule, why):
                continue
            url = url or _booking_url(provider_id, booking_id)
            changes.append(DeadlineChange(
                provider=provider_id, store=STORE, record="booking", record_id=booking_id, kind=kind, old_at=old_at,
                new_at=new_at, rule=rule, explanation=why, subject=name, exam=exam, url=url,
                uid=f"{provider_id}-{kind}-booking-{booking_id}", row_id=row_id))
    return changes


def apply(db: Session, ctx: RuleContext, organization_id: int, changes: Sequence[DeadlineChange]) -> int:
    mine = by_store(changes, STORE)
    if not mine:
        return 0
    table = BookingDeadline.__table__
    updates = [c for c in mine if c.old_at is not None and c.new_at is not None]
    inserts = [c for c in mine if c.old_at is None]
    deletes = [c for c in mine if c.new_at is None]
    if updates:
        statement = update(table).where(and_(table.c.id == bindparam("row_id"), table.c.at == bindparam("old_at"))) \
            .values(at=bindparam("new_at"), rule=bindparam("new_rule"), explanation_ja=bindparam("ja"),
                    explanation_en=bindparam("en"))
        _guarded_many(db, statement, [{"row_id": c.row_id, "old_at": c.old_at, "new_at": c.new_at, "new_rule": c.rule,
                                       "ja": c.explanation.ja, "en": c.explanation.en} for c in updates])
    if deletes:
        statement = delete(table).where(and_(table.c.id == bindparam("row_id"), table.c.at == bindparam("old_at")))
        _guarded_many(db, statement, [{"row_id": c.row_id, "old_at": c.old_at} for c in deletes])
    if inserts:
        db.execute(insert(table), [{"organization_id": organization_id, "booking_id": c.record_id, "kind": c.kind,
                                    "at": c.new_at, "rule": c.rule, "explanation_ja": c.explanation.ja,
                                    "explanation_en": c.explanation.en} for c in inserts])
    _refresh_next_deadline(db, sorted({c.record_id for c in mine}))
    return len(mine)


def _guarded_many(db: Session, statement, params: list[dict]) -> None:
    """One executemany; every row must match its old value (else the booking changed)."""
    result = db.execute(statement, params)
    if db.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
        raise CHANGED_MEANWHILE


def _refresh_next_deadline(db: Session, booking_ids: list[int]) -> None:
    """``Booking.next_deadline_at``: the earliest of its stored deadlines again."""
    deadlines = BookingDeadline.__table__
    bookings = Booking.__table__
    earliest = select(deadlines.c.at).where(deadlines.c.booking_id == bookings.c.id).order_by(deadlines.c.at) \
        .limit(1).scalar_subquery()
    statement = update(bookings).where(bookings.c.id == bindparam("booking_id")).values(next_deadline_at=earliest)
    db.execute(statement, [{"booking_id": i} for i in booking_ids])
