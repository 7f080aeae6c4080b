"""Test data builders shared by the core tests (stored through the real services)."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal import bookings, db
from portal.models import Candidate, ExamSession


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
