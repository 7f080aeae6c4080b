"""Recomputing stored deadlines when an organisation's rules change, in two steps.

1. **Compute the plan** (:func:`plan`): every stored deadline the given rule context would
   change — which record, which kind, old → new moment, rule and explanation — as a
   :class:`RecomputePlan`. It only reads: no write, no lock, so the same code answers a
   what-if question ("what would this closure day move?") with a context built from
   rules that are not saved (:func:`plan` takes any ``ctx``).
2. **Apply the plan** (:func:`apply`): bulk statements, in the caller's transaction.

Each plugin that stores deadlines takes part through two hooks: ``provider_recompute_plan``
(its changes, each tagged with its ``source``) and ``provider_recompute_apply`` (writes the
changes whose ``source`` is its own). A plugin whose records have deadlines computed on the
fly (never stored) reports those that move through ``provider_recompute_computed``: they
are part of the plan — shown, counted, kept for the reminder digests — but never written. The core's bookings answer through the default plugin
with :func:`plan_booking_deadlines` / :func:`apply_booking_deadlines`: a booking's deadlines
depend only on the provider, its exam and its session's start, so the provider is asked
once per distinct (exam, session start), however many bookings share it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, cast, delete, func, insert, select, update
from sqlmodel import Session

from portal.models import Booking, BookingDeadline, ExamSession
from portal.providers import RuleContext, current as providers
from portal.rules import Deadline, DeadlineQuery, Msg

BOOKING = "booking"  # DeadlineChange.source of the core's booking deadlines
from portal.models import ACTIVE_STATUSES as ACTIVE  # bookings whose deadlines still matter
CHUNK = 2000  # ids per IN (...) list: well under SQLite's and PostgreSQL's bind limits


@dataclass(frozen=True)
class DeadlineChange:
    """One change of stored deadlines, shared by every record in ``records``: their deadline
    of ``kind`` moves from ``old_at`` to ``new_at`` (``old_at`` None: the rules now add it;
    ``new_at`` None: they drop it), under ``rule``, explained by ``explanation``.

    ``computed``: a deadline not stored but computed from the rules whenever it is shown
    (hook ``provider_recompute_computed``; the core sets it): part of the plan, never written."""

    source: str  # what stores it: "booking", or a plugin's own record type
    records: tuple[int, ...]  # ids of the records of ``source`` this change applies to
    kind: str
    old_at: datetime | None
    new_at: datetime | None
    rule: str
    explanation: Msg
    computed: bool = False

    @property
    def moved(self) -> bool:
        return self.old_at != self.new_at


@dataclass(frozen=True)
class RecomputePlan:
    """Every deadline of one provider's records that the context would change: stored ones
    (moment or wording) and computed ones (moment)."""

    organization_id: int
    provider_id: str
    changes: tuple[DeadlineChange, ...] = field(default=())

    def __len__(self) -> int:
        """How many deadlines change (stored: moment or wording; computed: moment)."""
        return sum(len(c.records) for c in self.changes)

    def __iter__(self) -> Iterator[DeadlineChange]:
        return iter(self.changes)

    @property
    def moved(self) -> int:
        """How many deadlines change their moment (not only their wording)."""
        return sum(len(c.records) for c in self.changes if c.moved)

    def of(self, source: str) -> list[DeadlineChange]:
        return [c for c in self.changes if c.source == source]


@dataclass(frozen=True)
class PlanRecord:
    """A record of a plan's changes as people know it (what-if previews, reminder digests):
    answered by the plugin that stores it (hook ``provider_recompute_records``)."""

    source: str
    record_id: int
    what: Msg  # the kind of record: 予約, 試験日, 団体受験の回 …
    subject: str  # who / what: "山田 太郎", "2027-05-10 10:00 試験日"
    exam: str | None
    url: str | None
    #: the DueItem uid of the record's deadline of a kind: ``uid_format.format(kind=kind)``
    uid_format: str

    def uid(self, kind: str) -> str:
        return self.uid_format.format(kind=kind)


def records(ctx: RuleContext, organization_id: int, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], PlanRecord]:
    """The records ``wanted`` ((source, record id) pairs of a plan) described by their
    plugins. Reads only; ask for what you show (a page of a preview), not a whole large plan."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    return {(r.source, r.record_id): r for r in providers().recompute_records(ctx, organization_id, wanted)}


def plan(db: Session, ctx: RuleContext, organization_id: int, current: RuleContext | None = None) -> RecomputePlan:
    """Compute, without writing, what ``ctx`` changes in the stored deadlines of every plugin
    and — given ``current``, the rules in force — in the deadlines they compute (moves only)."""
    changes = providers().recompute_plan(ctx, organization_id)
    if current is not None:
        changes.extend(providers().recompute_computed(ctx, organization_id, current))
    return RecomputePlan(organization_id, ctx.provider.id, tuple(changes))


def apply(db: Session, ctx: RuleContext, recompute_plan: RecomputePlan) -> int:
    """Write a plan (each plugin its own stored changes; computed ones need no writing);
    returns how many stored deadlines changed."""
    stored = [c for c in recompute_plan.changes if not c.computed]
    if not stored:
        return 0
    return providers().recompute_apply(ctx, recompute_plan.organization_id, stored)


def recompute(db: Session, ctx: RuleContext, organization_id: int) -> int:
    """Plan and apply in the caller's transaction (closures, settings or catalog changed)."""
    changed = apply(db, ctx, plan(db, ctx, organization_id))
    return changed + providers().recompute_legacy(ctx, organization_id)


# --------------------------------------------------------------------------- the core's bookings


def _same(stored: tuple, answer: Deadline) -> bool:
    at, rule, ja, en = stored
    return at == answer.at and rule == answer.rule and ja == answer.explanation.ja and \
        (en or ja) == (answer.explanation.en or answer.explanation.ja)


def plan_booking_deadlines(db: Session, ctx: RuleContext, organization_id: int) -> list[DeadlineChange]:
    """The stored deadlines of the provider's active bookings that ``ctx`` changes (read only).

    One grouped query: each row is a distinct stored deadline (exam, session start, kind,
    moment, rule, explanation) with the bookings holding it, so the work in Python is per
    distinct value, not per booking."""
    rows = db.connection().execute(
        select(ExamSession.exam, ExamSession.start, BookingDeadline.kind, BookingDeadline.at, BookingDeadline.rule,
               BookingDeadline.explanation_ja, BookingDeadline.explanation_en,
               func.aggregate_strings(cast(Booking.id, String), ","))
        .select_from(Booking)
        .join(ExamSession, ExamSession.id == Booking.session_id)
        .outerjoin(BookingDeadline, BookingDeadline.booking_id == Booking.id)
        .where(Booking.organization_id == organization_id, Booking.provider == ctx.provider.id,
               Booking.status.in_(ACTIVE))
        .group_by(ExamSession.exam, ExamSession.start, BookingDeadline.kind, BookingDeadline.at, BookingDeadline.rule,
                  BookingDeadline.explanation_ja, BookingDeadline.explanation_en)
    ).all()
    answers: dict[tuple, dict[str, Deadline]] = {}  # one provider question per (exam, start)
    holding: dict[tuple, dict[str, set[int]]] = {}  # (exam, start) → kind → bookings storing it
    changes: list[DeadlineChange] = []
    for exam, start, kind, at, rule, ja, en, ids in rows:
        key = (exam, start)
        if key not in answers:
            answers[key] = {d.kind: d for d in providers().deadlines(ctx, DeadlineQuery(exam, start))}
        records = tuple(int(i) for i in ids.split(","))
        holding.setdefault(key, {}).setdefault(kind, set()).update(records)
        if kind is None:
            continue  # bookings without any stored deadline (yet)
        answer = answers[key].get(kind)
        if answer is None:
            changes.append(DeadlineChange(BOOKING, records, kind, at, None, rule, Msg(ja, en or ja)))
        elif not _same((at, rule, ja, en), answer):
            changes.append(DeadlineChange(BOOKING, records, kind, at, answer.at, answer.rule, answer.explanation))
    for key, kinds in holding.items():
        everyone = set().union(*kinds.values())
        for kind, answer in answers[key].items():
            missing = everyone - kinds.get(kind, set())
            if missing:
                changes.append(DeadlineChange(BOOKING, tuple(sorted(missing)), kind, None, answer.at, answer.rule,
                                              answer.explanation))
    return changes


class _IdLists:
    """``column IN <ids>`` for one dialect, the ids always one parameter so that the statement
    is compiled once: PostgreSQL takes them as an array (``= ANY(:ids)``) and a statement is
    sent once for all its parameter sets (executemany, pipelined: no round trip per change);
    SQLite, in-process, takes them as one JSON array read by ``json_each`` (an expanding
    ``IN (…)`` list would be rendered anew for every chunk), one execution per change."""

    def __init__(self, connection):
        self.array = connection.dialect.name == "postgresql"

    def match(self, column):
        if self.array:
            return column == any_(bindparam("b_ids", type_=ARRAY(Integer)))
        listed = func.json_each(bindparam("b_ids", type_=String)).table_valued("value")
        return column.in_(select(listed.c.value))

    def run(self, connection, statement, params: list[dict]) -> int:
        """Returns how many rows the statement matched in all."""
        if not params:
            return 0
        if self.array:
            return connection.execute(statement, params).rowcount
        return sum(connection.execute(statement, {**p, "b_ids": json.dumps(list(p["b_ids"]))}).rowcount for p in params)


CHANGED_MEANWHILE = Msg("期限の再計算中に予約が変更されたため、保存していません。もう一度お試しください。",
                        "A booking changed while its deadlines were being recomputed, so nothing was saved. Try again.")


def apply_booking_deadlines(db: Session, organization_id: int, changes: Iterable[DeadlineChange]) -> int:
    """Write the core's booking-deadline changes with set-based statements: per change one
    UPDATE / DELETE over its bookings (on PostgreSQL all sent in one pipelined executemany),
    a bulk INSERT, then the bookings' ``next_deadline_at``. Returns how many stored
    deadlines were written. A booking whose deadline is no longer the planned old one is a
    :class:`portal.guard.Conflict` (the caller's transaction rolls back)."""
    from portal import guard
    table = BookingDeadline.__table__
    connection = db.connection()
    ids = _IdLists(connection)
    # Guarded on the planned old moment: a deadline changed since the plan was computed
    # (another request moved the booking) refuses the whole recompute. The guard is wrapped
    # (coalesce) so that it never steers the planner off the (booking_id, kind) index onto
    # the index of ``at`` (SQLite would when many rows share a moment).
    of_change = (table.c.kind == bindparam("b_kind"), func.coalesce(table.c.at, table.c.at) == bindparam("b_old"),
                 ids.match(table.c.booking_id))
    moving = update(table).where(*of_change).values(at=bindparam("b_at"), rule=bindparam("b_rule"),
                                                    explanation_ja=bindparam("b_ja"), explanation_en=bindparam("b_en"))
    dropping = delete(table).where(*of_change)
    moves: list[dict] = []
    drops: list[dict] = []
    additions: list[dict] = []
    touched: set[int] = set()
    count = 0
    for c in changes:
        if c.source != BOOKING:
            continue
        count += len(c.records)
        touched.update(c.records)
        if c.old_at is None:
            additions.extend({"organization_id": organization_id, "booking_id": record, "kind": c.kind, "at": c.new_at,
                              "rule": c.rule, "explanation_ja": c.explanation.ja, "explanation_en": c.explanation.en}
                             for record in c.records)
        elif c.new_at is None:
            drops.append({"b_kind": c.kind, "b_old": c.old_at, "b_ids": list(c.records)})
        else:
            moves.append({"b_kind": c.kind, "b_old": c.old_at, "b_ids": list(c.records), "b_at": c.new_at,
                          "b_rule": c.rule, "b_ja": c.explanation.ja, "b_en": c.explanation.en})
    for statement, params in ((moving, moves), (dropping, drops)):
        if ids.run(connection, statement, params) != sum(len(p["b_ids"]) for p in params):
            raise guard.Conflict("deadlines_changed", CHANGED_MEANWHILE)
    if additions:
        connection.execute(insert(table), additions)
    if touched:
        _store_next_deadlines(connection, ids, sorted(touched))
    return count


def _store_next_deadlines(connection, ids: _IdLists, booking_ids: list[int]) -> None:
    """``booking.next_deadline_at`` = the earliest stored deadline not already past when the
    booking was made (a closed one is never the next, as :func:`portal.bookings.store_deadlines`
    has it), for these bookings, with UPDATE … FROM (min per booking) (no per-row subquery for
    the planner to misjudge); bookings left without an open deadline get NULL."""
    table, booking = BookingDeadline.__table__, Booking.__table__
    booked = booking.alias("booked")
    earliest = (select(table.c.booking_id, func.min(table.c.at).label("at"))
                .join(booked, booked.c.id == table.c.booking_id)
                .where(ids.match(table.c.booking_id), table.c.at >= booked.c.booked_at)
                .group_by(table.c.booking_id).subquery())
    # Only the bookings whose next deadline really changes are written (a row rewritten to
    # the same value still costs a new row version and its index entries on PostgreSQL).
    following = update(booking).where(booking.c.id == earliest.c.booking_id,
                                      booking.c.next_deadline_at.is_distinct_from(earliest.c.at)) \
        .values(next_deadline_at=earliest.c.at)
    ids.run(connection, following, [{"b_ids": booking_ids}])
    none_open = update(booking).where(ids.match(booking.c.id), booking.c.next_deadline_at.is_not(None), ~select(table.c.id).where(
        table.c.booking_id == booking.c.id, table.c.at >= booking.c.booked_at).exists()).values(next_deadline_at=None)
    ids.run(connection, none_open, [{"b_ids": booking_ids}])


def describe_bookings(db: Session, ctx: RuleContext, organization_id: int,
                      wanted: Iterable[tuple[str, int]]) -> list[PlanRecord]:
    """The core's bookings among ``wanted``: candidate, exam and the booking's page."""
    from flask import has_request_context
    from portal.models import Candidate
    from portal.urls import id_url
    ids = sorted({record for source, record in wanted if source == BOOKING})
    endpoint = ctx.provider.booking_endpoint or "bookings.detail"
    # one url_for for all (a save describes every booking it moved)
    page = id_url(endpoint, "booking_id") if has_request_context() else None
    described = []
    for i in range(0, len(ids), CHUNK):
        rows = db.execute(select(Booking.id, Booking.exam, Candidate.family_name, Candidate.given_name)
                          .join(Candidate, Candidate.id == Booking.candidate_id)
                          .where(Booking.organization_id == organization_id, Booking.id.in_(ids[i:i + CHUNK]))).all()
        for booking_id, exam, family, given in rows:
            described.append(PlanRecord(
                BOOKING, booking_id, Msg("予約", "booking"), f"{family} {given}", exam,
                page and page(booking_id),
                f"{ctx.provider.id}-{{kind}}-booking-{booking_id}"))
    return described
