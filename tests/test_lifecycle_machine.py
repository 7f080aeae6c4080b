"""A hypothesis state machine over the booking lifecycle (book, change, cancel, pay, refund,
lapse, time passing with exam_over), on every backend. After every step:

- each session's ``seats_taken`` equals the bookings holding a seat there, within capacity;
- no voucher number is held by two bookings;
- the audit log has exactly one booking entry per transition that happened;
- a refused step changed nothing (seats, states and audit as before).

On the core's sample provider (SMP-CH-1 change and cancel windows, SMP-CA-1 refunds, SMP-PAY-1 lapses).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func
from sqlmodel import select

from portal import db, lifecycle
from portal.models import AuditEvent, Booking, Candidate, ExamSession
from portal.orgs import create_organization
from portal.rules import JST, RuleError

START = datetime(2026, 11, 23, 9, 0, tzinfo=JST)
ACCOUNT = lifecycle.RefundAccountInput("0001", "123", "ordinary", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")
METHODS = ("bank", "convenience_store", "credit_card", "pay_easy", "voucher")  # bank first: refunds (SMP-CA-1) are common


def lifecycle_machine(app, tally: Counter):
    class BookingLifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.now = START
            self.transitions = 0
            with app.app_context():
                with db.transaction() as s:
                    org = create_organization(s, "状態機械校")
                    self.org_id = org.id
                    self.sessions = []
                    for days, capacity in ((5, 3), (12, 3), (19, 2)):
                        row = ExamSession(organization_id=org.id, provider="sample", exam="S1", venue="本校",
                                          start=START + timedelta(days=days, hours=1),
                                          end=START + timedelta(days=days, hours=2, minutes=30), capacity=capacity)
                        s.add(row)
                        s.flush()
                        self.sessions.append(row.id)
                    self.candidates = []
                    for i in range(4):
                        c = Candidate(organization_id=org.id, family_name="受験", given_name=str(i))
                        s.add(c)
                        s.flush()
                        self.candidates.append(c.id)
            self.bookings: list[int] = []

        # ------------------------------------------------------------- helpers
        def _state(self, s):
            rows = s.exec(select(Booking.id, Booking.status, Booking.session_id, Booking.paid)
                          .where(Booking.organization_id == self.org_id)).all()
            seats = s.exec(select(ExamSession.id, ExamSession.seats_taken)
                           .where(ExamSession.organization_id == self.org_id)).all()
            return sorted(rows), sorted(seats), self._audit_count(s)

        def _audit_count(self, s):
            return s.exec(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.organization_id == self.org_id, AuditEvent.entity == "booking")).one()

        def _try(self, step, name: str) -> bool:
            """Run one transition in its own transaction; a refusal must change nothing."""
            with app.app_context():
                before = self._state(db.session())
                try:
                    with db.transaction() as s:
                        result = step(s)
                except RuleError as refused:
                    db.session().expire_all()
                    assert self._state(db.session()) == before
                    tally[f"{name} refused ({refused.code})"] += 1
                    return False
            self.transitions += 1 if result is None else result
            tally[name] += 1 if result is None else result
            return True

        def _all(self, *where) -> list[int]:
            """The bookings of this run in the state ``where`` says, newest first."""
            with app.app_context():
                return db.session().exec(select(Booking.id).where(Booking.organization_id == self.org_id, *where)
                                         .order_by(Booking.id.desc())).all()

        def _pick(self, pick: int, *wanted) -> int:
            """Every other time a booking in the state the action needs (``wanted``), when there
            is one, as an operator would choose; else mostly one of the latest bookings (more
            likely still active), sometimes any."""
            if wanted and pick % 2 == 0 and (found := self._all(*wanted)):
                return found[pick // 2 % len(found)]
            if pick % 5 == 0:
                return self.bookings[pick % len(self.bookings)]
            return self.bookings[-1 - pick % min(3, len(self.bookings))]

        # ------------------------------------------------------------- rules
        @rule(candidate=st.integers(0, 3), session=st.integers(0, 2), method=st.sampled_from(METHODS),
              voucher=st.sampled_from(["V-1", "V-2"]), paid=st.booleans())
        def book(self, candidate, session, method, voucher, paid):
            store = method in ("convenience_store", "pay_easy")
            unpaid = store and not paid
            data = lifecycle.NewBooking(self.candidates[candidate], self.sessions[session], method, not unpaid, 16500,
                                        self.now + timedelta(days=1) if unpaid else None,
                                        voucher if method == "voucher" else None)

            def step(s):
                booking = lifecycle.book(s, self.org_id, None, data, at=self.now)
                self.bookings.append(booking.id)
            self._try(step, "book")

        @rule(pick=st.integers(0, 50), offset=st.integers(1, 2))
        def change(self, pick, offset):
            if self.bookings:
                booking_id = self._pick(pick)

                def step(s):
                    booking = s.get(Booking, booking_id)
                    target = self.sessions[(self.sessions.index(booking.session_id) + offset) % len(self.sessions)]
                    lifecycle.change(s, booking, target, None, at=self.now)
                self._try(step, "change")

        @rule(pick=st.integers(0, 50))
        def cancel(self, pick):
            if self.bookings:
                booking_id = self._pick(pick, Booking.status == "booked")
                self._try(lambda s: lifecycle.cancel(s, s.get(Booking, booking_id), None, ACCOUNT, at=self.now) and None, "cancel")

        @rule(pick=st.integers(0, 50))
        def pay(self, pick):
            if self.bookings:
                booking_id = self._pick(pick, Booking.status == "booked", Booking.paid == False)  # noqa: E712
                self._try(lambda s: lifecycle.mark_paid(s, s.get(Booking, booking_id), None, at=self.now), "pay")

        @rule(pick=st.integers(0, 50))
        def refund(self, pick):
            if self.bookings:
                booking_id = self._pick(pick, Booking.status == "refund_pending")
                self._try(lambda s: lifecycle.complete_refund(s, s.get(Booking, booking_id), None, at=self.now), "refund")

        @rule()
        def lapse(self):
            self._try(lambda s: lifecycle.expire_lapsed(s, self.org_id, self.now), "lapse")

        @rule(hours=st.sampled_from([1, 6, 25, 49]))
        def time_passes(self, hours):
            self.now += timedelta(hours=hours)  # then the housekeeping cron runs, as every few minutes
            self._try(lambda s: lifecycle.expire_lapsed(s, self.org_id, self.now), "lapse")
            self._try(lambda s: lifecycle.close_ended_exams(s, self.org_id, self.now), "exam_over")

        # ------------------------------------------------------------- invariants
        @invariant()
        def seats_match_the_bookings_holding_them(self):
            with app.app_context():
                s = db.session()
                holding = Counter(s.exec(select(Booking.session_id).where(
                    Booking.organization_id == self.org_id, Booking.status.in_(lifecycle.SEATED))).all())
                for session in s.exec(select(ExamSession).where(ExamSession.organization_id == self.org_id)).all():
                    assert session.seats_taken == holding[session.id] <= session.capacity, (session.id, holding)

        @invariant()
        def no_voucher_is_held_twice(self):
            with app.app_context():
                codes = Counter(db.session().exec(select(Booking.voucher_code).where(
                    Booking.organization_id == self.org_id, Booking.voucher_code != None,  # noqa: E711
                    Booking.status.in_(lifecycle.SEATED))).all())
                assert all(n == 1 for n in codes.values()), codes

        @invariant()
        def one_audit_entry_per_transition(self):
            with app.app_context():
                assert self._audit_count(db.session()) == self.transitions

        @invariant()
        def every_state_is_a_state_of_the_machine(self):
            with app.app_context():
                statuses = set(db.session().exec(select(Booking.status).where(Booking.organization_id == self.org_id)).all())
                assert statuses <= set(lifecycle.STATES)

    return BookingLifecycle


def test_the_lifecycle_keeps_its_invariants_under_any_sequence(app):
    tally: Counter = Counter()
    run_state_machine_as_test(lifecycle_machine(app, tally), settings=settings(
        max_examples=40, stateful_step_count=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)))
    # The runs did reach every transition (and some refusals), not only trivial paths.
    for action in ("book", "change", "cancel", "pay", "refund", "lapse", "exam_over"):
        assert tally[action] > 0, tally
    assert any("refused" in k for k in tally), tally
