"""Recompute after a rules change: a read-only plan (what would move), then set-based
writes; one provider question per distinct (exam, session start) (issue 10)."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlmodel import select

from helpers import count_statements, make_booking, make_candidate, make_session
from portal import db, recompute, rule_context
from portal.bookings import recompute_deadlines
from portal.models import Booking, BookingDeadline, ClosureDay, ExamSession, ProviderSettingValue
from portal.plugins import hookimpl
from portal.recompute import DeadlineChange
from portal.rules import JST, ClosureRule, Deadline, DeadlineQuery, Exam, Msg, ProviderInfo, ProviderSetting, end_of_day

FRIDAY = datetime(2027, 3, 12, 10, tzinfo=JST)
MONDAY = datetime(2027, 3, 15, 10, tzinfo=JST)


class Toy:
    """A provider on the core's bookings: a change deadline 3 business days before the
    exam, and a payment deadline only when the organisation switches it on."""

    asked: list = []

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="toy", name=Msg("おもちゃ", "Toy"), exams=(Exam("T1", "おもちゃ1級"),),
                            deadline_kinds=("change", "payment"), bookings=True, payment_methods=("credit_card",),
                            settings=(ProviderSetting("payment_deadline", False, Msg("入金期限", "payment deadline")),))

    @hookimpl
    def provider_deadlines(self, ctx, query):
        Toy.asked.append((query.exam, query.exam_start))
        shift = ctx.calendar.business_days_before(query.exam_start.date(), 3)
        answers = [Deadline("change", end_of_day(shift.day), "TOY-1",
                            Msg(f"3営業日前({shift.skipped_text('ja')})", f"3 business days before ({shift.skipped_text('en')})"))]
        if ctx.setting("payment_deadline"):
            answers.append(Deadline("payment", end_of_day(shift.day - timedelta(days=1)), "TOY-2", Msg("入金", "payment")))
        return answers


class Ledger:
    """A plugin with records of its own: takes part in the plan and applies only its own changes."""

    applied: list = []

    @hookimpl
    def provider_recompute_plan(self, ctx, organization_id):
        return [DeadlineChange("ledger", (7,), "report", None, datetime(2027, 3, 1, tzinfo=JST), "LED-1", Msg("報告", "report"))]

    @hookimpl
    def provider_recompute_apply(self, ctx, organization_id, changes):
        mine = [c for c in changes if c.source == "ledger"]
        Ledger.applied.append(mine)
        return sum(len(c.records) for c in mine)


@pytest.fixture
def app(make_app):
    Toy.asked.clear()
    Ledger.applied.clear()
    return make_app(plugins=[Toy(), Ledger()])


def _book(app, org_id, sessions, per_session):
    for session_id in sessions:
        for i in range(per_session):
            make_booking(app, org_id, session_id, make_candidate(app, org_id, given=f"花子{i}"), amount=1000)


def _close(app, org_id, day: date, label="臨時休業"):
    with app.app_context():
        with db.transaction() as s:
            s.add(ClosureDay(organization_id=org_id, provider="toy", start_date=day, end_date=day, label_ja=label))
            s.flush()
            return recompute_deadlines(s, org_id, "toy")


def _stored(app):
    with app.app_context():
        return {(d.booking_id, d.kind): (d.at, d.rule, d.explanation_ja)
                for d in db.session().exec(select(BookingDeadline)).all()}


def _fresh(app, org_id):
    """What storing every booking's deadlines from scratch would give."""
    with app.app_context():
        s = db.session()
        ctx = rule_context.build_context(s, org_id, "toy")
        providers = app.extensions["exam_portal.providers"]
        expected = {}
        for b, es in s.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id)).all():
            for d in providers.deadlines(ctx, DeadlineQuery(es.exam, es.start)):
                expected[(b.id, d.kind)] = (d.at, d.rule, d.explanation.ja)
        return expected


def test_a_closure_moves_exactly_the_deadlines_it_covers(app, org_factory):
    org_id, *_ = org_factory()
    friday_a = make_session(app, org_id, "toy", "T1", FRIDAY, capacity=50, venue="A")
    friday_b = make_session(app, org_id, "toy", "T1", FRIDAY, capacity=50, venue="B")
    monday = make_session(app, org_id, "toy", "T1", MONDAY, capacity=50)
    _book(app, org_id, (friday_a, friday_b, monday), 3)
    # Friday's change deadline counts Thu 11, Wed 10, Tue 9; Monday's Fri 12, Thu 11, Wed 10:
    # closing Fri 12 Mar moves only Monday's (to Tue 9 Mar).
    moved = _close(app, org_id, date(2027, 3, 12))
    assert moved == 3 + 1  # three bookings' change deadline, and the ledger's record
    stored = _stored(app)
    assert stored == _fresh(app, org_id)
    monday_ids = {bid for (bid, _), v in stored.items() if v[0].date() == date(2027, 3, 9) and "臨時休業" in v[2]}
    assert len(monday_ids) == 3
    with app.app_context():
        for b in db.session().exec(select(Booking)).all():
            assert b.next_deadline_at == min(at for (bid, _), (at, *_x) in stored.items() if bid == b.id)


def test_one_question_per_exam_and_start_and_statements_independent_of_bookings(app, org_factory):
    org_id, *_ = org_factory()
    sessions = [make_session(app, org_id, "toy", "T1", start, capacity=100, venue=v)
                for start in (FRIDAY, MONDAY) for v in ("A", "B")]
    _book(app, org_id, sessions, 2)
    counts = []
    for day, more in ((date(2027, 3, 9), 10), (date(2027, 3, 8), 0)):
        Toy.asked.clear()
        with count_statements(app) as counter:
            _close(app, org_id, day)
        assert sorted(set(Toy.asked)) == sorted(Toy.asked) and len(Toy.asked) == 2  # (T1, Fri), (T1, Mon)
        counts.append(counter.count)
        _book(app, org_id, sessions, more)  # 8 bookings the first time, 48 the second
    assert counts[0] == counts[1], counts
    assert _stored(app) == _fresh(app, org_id)


def test_the_plan_only_reads_and_reports_old_and_new(app, org_factory):
    org_id, *_ = org_factory()
    session_id = make_session(app, org_id, "toy", "T1", MONDAY, capacity=10)
    _book(app, org_id, [session_id], 2)
    before = _stored(app)
    with app.app_context():
        s = db.session()
        ctx = rule_context.org_context(s, org_id, "toy")
        closed = app.extensions["exam_portal.providers"].context(
            "toy", [*ctx.calendar.closures, ClosureRule(
                date(2027, 3, 10), date(2027, 3, 10), Msg("見込み休業", "planned closure"))], ctx.settings, ctx.exams)
        with count_statements(app) as counter:
            plan = recompute.plan(s, closed, org_id)
        assert counter.statements and all(st.lstrip().upper().startswith("SELECT") for st in counter.statements)
        s.rollback()
    assert _stored(app) == before  # nothing written
    booking_changes = plan.of(recompute.BOOKING)
    assert sum(len(c.records) for c in booking_changes) == 2 and plan.moved == len(plan) == 3  # + the ledger's record
    with app.app_context():
        assert {r for c in booking_changes for r in c.records} == set(db.session().exec(select(Booking.id)).all())
    for change in booking_changes:
        assert change.kind == "change" and change.rule == "TOY-1"
        assert change.old_at == datetime(2027, 3, 10, 23, 59, 59, tzinfo=JST)
        assert change.new_at == datetime(2027, 3, 9, 23, 59, 59, tzinfo=JST)
        assert "見込み休業" in change.explanation.ja and "planned closure" in change.explanation.en


def test_a_setting_that_adds_a_kind_inserts_it_and_removing_it_drops_it(app, org_factory):
    org_id, *_ = org_factory()
    session_id = make_session(app, org_id, "toy", "T1", MONDAY, capacity=10)
    _book(app, org_id, [session_id], 2)
    with app.app_context():
        with db.transaction() as s:
            s.add(ProviderSettingValue(organization_id=org_id, provider="toy", key="payment_deadline", value=True))
            s.flush()
            assert recompute_deadlines(s, org_id, "toy") == 2 + 1
    stored = _stored(app)
    assert sorted(k for _, k in stored) == ["change", "change", "payment", "payment"] and stored == _fresh(app, org_id)
    with app.app_context():
        with db.transaction() as s:
            row = s.exec(select(ProviderSettingValue).where(ProviderSettingValue.key == "payment_deadline")).one()
            row.value = False
            s.add(row)
            s.flush()
            assert recompute_deadlines(s, org_id, "toy") == 2 + 1
    assert sorted(k for _, k in _stored(app)) == ["change", "change"]
    assert Ledger.applied and all(all(c.source == "ledger" for c in mine) for mine in Ledger.applied)


def test_nothing_changes_when_the_rules_give_the_same_answers(app, org_factory):
    org_id, *_ = org_factory()
    session_id = make_session(app, org_id, "toy", "T1", MONDAY, capacity=10)
    _book(app, org_id, [session_id], 3)
    assert _close(app, org_id, date(2027, 3, 20)) == 1  # after the exam: only the ledger's record
    assert len(Ledger.applied[-1]) == 1


def test_the_admin_page_says_how_many_deadlines_moved(app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, "toy", "T1", MONDAY, capacity=10)
    _book(app, org_id, [session_id], 4)
    r = client.post("/admin/providers/toy/closures", data={"label": "臨時休業", "start_date": "2027-03-11"},
                    headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 200 and 'data-moved="5"' in r.get_data(as_text=True)  # 4 bookings + the ledger's record


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(closed=st.sets(st.dates(date(2027, 3, 1), date(2027, 3, 19)), max_size=6),
       payment=st.booleans())
def test_after_recompute_stored_deadlines_are_what_the_rules_say_and_a_second_plan_is_empty(app, org_factory, closed, payment):
    """Invariant: whatever closures and settings, recompute leaves exactly what storing every
    booking afresh would, and planning again finds nothing to change."""
    with app.app_context():
        org_ids = db.session().exec(select(Booking.organization_id)).all()
    if not org_ids:
        org_id, *_ = org_factory(email=f"p{len(closed)}@example.jp")
        _book(app, org_id, [make_session(app, org_id, "toy", "T1", start, capacity=10)
                            for start in (FRIDAY, MONDAY, MONDAY + timedelta(days=3))], 2)
    else:
        org_id = org_ids[0]
    with app.app_context():
        with db.transaction() as s:
            for row in s.exec(select(ClosureDay).where(ClosureDay.provider == "toy")).all():
                s.delete(row)
            for day in closed:
                s.add(ClosureDay(organization_id=org_id, provider="toy", start_date=day, end_date=day, label_ja=f"休{day}"))
            setting = s.exec(select(ProviderSettingValue).where(ProviderSettingValue.key == "payment_deadline")).first()
            setting = setting or ProviderSettingValue(organization_id=org_id, provider="toy", key="payment_deadline")
            setting.value = payment
            s.add(setting)
            s.flush()
            recompute_deadlines(s, org_id, "toy")
    assert _stored(app) == _fresh(app, org_id)
    with app.app_context():
        s = db.session()
        assert len(recompute.plan(s, rule_context.org_context(s, org_id, "toy"), org_id).of(recompute.BOOKING)) == 0


def test_only_bookings_whose_next_deadline_changes_are_written(app, org_factory):
    """A recompute that rewrites deadlines (here their wording) without changing a booking's
    earliest one leaves the booking row alone; one that moves it writes exactly those."""
    from sqlalchemy import event, update
    org_id, *_ = org_factory()
    monday = make_session(app, org_id, "toy", "T1", MONDAY, capacity=50)
    friday = make_session(app, org_id, "toy", "T1", FRIDAY, capacity=50)
    _book(app, org_id, (monday, friday), 3)
    with app.app_context():
        with db.transaction() as s:
            s.execute(update(BookingDeadline).values(rule="OLD"))  # the moments stay right
    written: list[int] = []

    def seen(_conn, cursor, statement, _params, _context, _many):
        if " ".join(statement.split()).upper().startswith("UPDATE BOOKING SET NEXT_DEADLINE_AT"):
            written.append(cursor.rowcount)

    engine = app.extensions["exam_portal.engine"]
    event.listen(engine, "after_cursor_execute", seen)
    try:
        assert _close(app, org_id, date(2027, 2, 1)) == 6 + 1  # six bookings' wording, and the ledger's
        assert sum(written) == 0
        written.clear()
        assert _close(app, org_id, date(2027, 3, 12)) == 3 + 1  # Monday's change deadline moves (Tue 9)
        assert sum(written) == 3
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert _stored(app) == _fresh(app, org_id)
    with app.app_context():
        for b in db.session().exec(select(Booking)).all():
            assert b.next_deadline_at == min(at for (bid, _), (at, *_x) in _stored(app).items() if bid == b.id)
