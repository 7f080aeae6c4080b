"""ODY-ST as a hypothesis state machine over the real services and database: any sequence
of clicks — some from a page that predates the last change (a stale version) — keeps the
day's stored state, version, candidates, import and audit log equal to a simple model.
A refused click changes nothing; an applied one bumps the version once and is audited
once; the audit's state changes form an unbroken chain."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.models import AuditEvent
from portal.rules import JST, RuleError
from plugins.odyssey import services
from plugins.odyssey.fields import COLUMNS, validate
from plugins.odyssey.models import OdysseyCandidate, OdysseyExamDay, OdysseyImport
from plugins.odyssey.tests.samples import csv_bytes, csv_rows

NOW = datetime(2021, 2, 1, 9, 0, tzinfo=JST)  # every exam day below is weeks ahead: edits are open


def exam_days():
    """Weekdays from March 2021 on, for one fresh exam day per example."""
    day = date(2021, 3, 1)
    while True:
        if day.weekday() < 5:
            yield datetime.combine(day, time(10, 0), JST)
        day += timedelta(days=1)


class ExamDayMachine(RuleBasedStateMachine):
    app = org_id = user_id = None
    dates = None

    def __init__(self):
        super().__init__()
        self.ctx = self.app.app_context()
        self.ctx.push()
        while True:
            try:
                with db.transaction() as s:
                    day = services.create_exam_day(s, services.rule_context(s, self.org_id), self.org_id, self.user_id,
                                                   next(self.dates), NOW)
                break
            except RuleError:  # a holiday: the next weekday
                continue
        self.day_id = day.id
        self.version, self.confirmed, self.imported, self.hand, self.audits = 0, False, 0, 0, 1  # "create"
        subjects = services.subjects(db.session(), self.org_id)
        self.person = validate({name: cell for name, cell in zip(COLUMNS.values(), csv_rows(1)[0])}, subjects)[0]
        db.session().commit()

    def teardown(self):
        self.ctx.pop()

    def _day(self):
        s = db.session()
        s.expire_all()
        return s.get(OdysseyExamDay, self.day_id)

    def _seen(self, stale: bool) -> int:
        return self.version - 1 if stale and self.version else self.version

    def _click(self, action, applies: bool) -> None:
        """Run the action in its own transaction; it applies exactly when the model says so."""
        try:
            with db.transaction() as s:
                action(s, self._day())
        except RuleError:
            assert not applies, "refused although the model says it applies"
            return
        assert applies, "applied although the model says it must be refused"
        self.version += 1
        self.audits += 1

    @rule()
    def add_by_hand(self):
        self._click(lambda s, d: services.add_candidate(s, self.org_id, self.user_id, d, self.person, NOW),
                    not self.confirmed)
        if not self.confirmed:
            self.hand += 1

    @precondition(lambda self: self.hand + self.imported)
    @rule(stale=st.booleans())
    def confirm(self, stale):
        seen = self._seen(stale)
        applies = not self.confirmed and seen == self.version and self.hand + self.imported > 0
        self._click(lambda s, d: services.confirm(s, self.org_id, self.user_id, d, NOW, seen), applies)
        self.confirmed = self.confirmed or applies

    @precondition(lambda self: self.version)
    @rule(stale=st.booleans())
    def withdraw(self, stale):
        seen = self._seen(stale)
        applies = self.confirmed and seen == self.version
        self._click(lambda s, d: services.withdraw(s, self.org_id, self.user_id, d, NOW, seen), applies)
        self.confirmed = self.confirmed and not applies

    @rule(stale=st.booleans(), rows=st.integers(1, 4))
    def import_csv(self, stale, rows):
        seen = self._seen(stale)
        applies = not self.confirmed and not self.imported and seen == self.version
        self._click(lambda s, d: services.import_csv(s, self.org_id, self.user_id, d, csv_bytes(rows), "x.csv", NOW, seen),
                    applies)
        if applies:
            self.imported = rows

    @precondition(lambda self: self.imported)
    @rule(stale=st.booleans())
    def delete_import(self, stale):
        seen = self._seen(stale)
        applies = not self.confirmed and seen == self.version
        self._click(lambda s, d: services.delete_import(s, self.org_id, self.user_id, d, NOW, seen), applies)
        if applies:
            self.imported = 0

    @invariant()
    def stored_equals_the_model(self):
        s = db.session()
        day = self._day()
        assert day.version == self.version
        assert day.state == ("confirmed" if self.confirmed else "draft")
        assert (day.confirmed_at is not None) == self.confirmed
        people = s.exec(select(func.count()).select_from(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == self.day_id)).one()
        assert people == self.hand + self.imported
        assert (s.exec(select(OdysseyImport).where(OdysseyImport.exam_day_id == self.day_id)).first() is not None) == bool(self.imported)
        events = s.exec(select(AuditEvent).where(AuditEvent.organization_id == self.org_id).order_by(AuditEvent.id)).all()
        mine = [e for e in events if (e.entity == "odyssey_exam_day" and e.entity_id == self.day_id)
                or (e.entity == "odyssey_candidate" and (e.after or {}).get("exam_day_id") == self.day_id)]
        assert len(mine) == self.audits
        chain = [(e.before["state"], e.after["state"]) for e in mine if e.action == "state_change"]
        assert all(a[1] == b[0] for a, b in zip(chain, chain[1:])) and (not chain or chain[0][0] == "draft")


def test_any_sequence_of_clicks_keeps_the_day_equal_to_the_model(app, org_factory):
    org_id, user_id, _, _ = org_factory()
    ExamDayMachine.app, ExamDayMachine.org_id, ExamDayMachine.user_id = app, org_id, user_id
    ExamDayMachine.dates = exam_days()
    run_state_machine_as_test(ExamDayMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
