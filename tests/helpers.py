"""Test data builders and checks shared by the core tests and the bundled plugins' tests
(stored through the real services)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from portal import bookings, db
from portal.models import Candidate, ExamSession
from portal.rules import JST


def make_session(app, org_id, provider="sample", exam=None, start=None, capacity=5, venue="本校A"):
    """A session of ``provider`` (by default the core's sample provider)."""
    with app.app_context():
        info = app.extensions["exam_portal.providers"].info(provider)
        exam = exam or info.exams[0].code
        with db.transaction() as s:
            row = ExamSession(organization_id=org_id, provider=provider, exam=exam, venue=venue, start=start,
                              end=start + timedelta(minutes=90), capacity=capacity)
            s.add(row)
            s.flush()
            return row.id


def make_candidate(app, org_id, family="山田", given="太郎"):
    with app.app_context():
        with db.transaction() as s:
            c = Candidate(organization_id=org_id, family_name=family, given_name=given)
            s.add(c)
            s.flush()
            return c.id


def make_booking(app, org_id, session_id, candidate_id, method="credit_card", paid=True, amount=16500,
                 due: datetime | None = None, voucher=None):
    with app.app_context():
        with db.transaction() as s:
            b = bookings.book(s, org_id, None, bookings.NewBooking(candidate_id, session_id, method, paid, amount, due, voucher))
            return b.id


class StatementCounter:
    """Counts the SQL statements an engine executes (``with StatementCounter(engine) as n: …; n.count``).
    Transaction control (SQLite's explicit BEGIN) is not counted: PostgreSQL's driver sends it implicitly."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _record(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        from sqlalchemy import event
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


def count_statements(app):
    return StatementCounter(app.extensions["exam_portal.engine"])


# --------------------------------------------------------------------------- what-if

#: A statement that writes or takes a write lock (a preview sends none).
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|CREATE|DROP|ALTER|TRUNCATE|LOCK)\b|FOR\s+UPDATE|FOR\s+SHARE",
                    re.IGNORECASE)


def statements_of(app, call):
    """``call()``'s result and the SQL statements it sent."""
    from sqlalchemy import event
    engine = app.extensions["exam_portal.engine"]
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return call(), statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def every_row(app):
    """Every row of every table (to compare before and after what must write nothing)."""
    from sqlalchemy import inspect, text
    engine = app.extensions["exam_portal.engine"]
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT * FROM "{t}" ORDER BY id')).all()
                for t in inspect(engine).get_table_names() if t != "alembic_version"}



def booking_deadline_at(s, move):
    """The stored moment of a what-if move of the core's booking deadlines."""
    from sqlmodel import select
    from portal.models import BookingDeadline
    row = s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == move.record_id,
                                               BookingDeadline.kind == move.change.kind)).first()
    return row.at if row else None


def assert_booking_deadlines_follow_the_rules(s, org_id, provider_id):
    """The oracle: every stored booking deadline is what the provider answers under the stored rules."""
    from sqlmodel import select
    from portal.bookings import org_context, providers
    from portal.models import Booking, BookingDeadline
    from portal.rules import DeadlineQuery
    ctx = org_context(s, org_id, provider_id)
    rows = s.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == org_id, Booking.provider == provider_id, Booking.status == "booked")).all()
    for booking, exam_session in rows:
        expected = {d.kind: d.at for d in providers().deadlines(ctx, DeadlineQuery(exam_session.exam, exam_session.start))}
        stored = {r.kind: r.at for r in s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking.id)).all()}
        assert stored == expected
        # a deadline already past when booked is closed: never the next one
        assert booking.next_deadline_at == min((at for at in expected.values() if at >= booking.booked_at), default=None)


def computed_at(s, org_id, provider_id, move):
    """Where a computed deadline (hook provider_recompute_computed) of a move is now: as the
    due items (dashboard, digests) give it under the saved rules; None when it is gone."""
    from portal.bookings import org_context, providers
    ever = timedelta(days=3650)
    now = datetime.now(JST)
    due = providers().due_items(org_context(s, org_id, provider_id), org_id, now - ever, now + ever)
    return {i.uid: i.at for i in due}.get(move.uid)


def check_preview_equals_save(app, org_id, provider_ids, today, stored_at=None, oracle=None, examples=40):
    """Random closure edits of ``provider_ids`` on the organisation's data: the save (same code
    path, fingerprint checked) accepts the previewed plan, stores exactly its new values and
    the result is what the rules say; each edit is rolled back after its example.

    ``stored_at``: readers of the stored moment by ``DeadlineChange.source`` (the core's
    booking deadlines are read always; a plugin's tests add its own records), ``oracle``: a
    plugin's own check of its records (the bookings' is always made). Every source is also
    checked through the recompute hooks: nothing is left to recompute after the save.
    Returns how many examples moved deadlines (``moved``), how many into the past
    (``into_past``), and the sources whose stored moments were read back (``read``)."""
    from hypothesis import HealthCheck, given, settings, strategies as st
    from portal import recompute, whatif
    from portal.models import ClosureDay
    from portal.rule_context import closure_rows, org_context
    from portal.rules import ClosureRule, Msg
    readers = {"booking": booking_deadline_at, **(stored_at or {})}
    with app.app_context():
        closures = {p: [r.id for r in closure_rows(db.session(), org_id, p)] for p in provider_ids}
    days = st.one_of(st.dates(today, today + timedelta(days=7)),  # near: moves into the past happen here
                     st.dates(today - timedelta(days=5), today + timedelta(days=45)))
    closure = st.tuples(days, st.integers(0, 3), st.booleans())
    seen = {"moved": 0, "into_past": 0, "read": set()}

    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        provider = data.draw(st.sampled_from(provider_ids))
        added = data.draw(st.lists(closure, max_size=4))
        removed = data.draw(st.sets(st.sampled_from(closures[provider]))) if closures[provider] else set()
        rules = tuple(ClosureRule(start, start + timedelta(days=n), Msg(f"休業{i}", f"休業{i}"), yearly)
                      for i, (start, n, yearly) in enumerate(added))
        with app.test_request_context("/"):
            preview = whatif.preview(org_id, provider, whatif.RulesEdit(rules, frozenset(removed)), listed=10**6)
            s = db.session()
            try:
                with whatif.recomputing(s, org_id, provider, preview.fingerprint) as done:
                    for rule in rules:
                        s.add(ClosureDay(organization_id=org_id, provider=provider, start_date=rule.start, end_date=rule.end,
                                         yearly=rule.yearly, label_ja=rule.label.ja, label_en=rule.label.en))
                    for closure_id in removed:
                        s.delete(s.get(ClosureDay, closure_id))
                assert (done.moved, done.updated) == (preview.moved, preview.updated)
                assert done.records == {source: count for source, _what, count in preview.records}
                seen["moved"] += preview.moved > 0
                seen["into_past"] += preview.into_past > 0
                for move in whatif.moves_of(preview):
                    if move.change.computed:  # never stored: the due items give it under the saved rules
                        assert computed_at(s, org_id, provider, move) == move.change.new_at, move
                        seen["read"].add("computed")
                    elif move.change.source in readers:
                        assert readers[move.change.source](s, move) == move.change.new_at, move
                        seen["read"].add(move.change.source)
                assert_booking_deadlines_follow_the_rules(s, org_id, provider)
                if oracle is not None:
                    oracle(s, org_id, provider)
                ctx = org_context(s, org_id, provider)
                assert recompute.plan(s, ctx, org_id).changes == ()  # nothing left to recompute
            finally:
                s.rollback()

    check()
    return seen
