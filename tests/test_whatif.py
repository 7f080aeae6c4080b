"""What-if of closure days, settings and catalog edits (portal.whatif): the preview shows the
plan the save then writes, flags moves into the past, writes nothing; stale plans are refused."""
import json
import re
import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, inspect, text
from sqlmodel import select

from helpers import make_booking, make_candidate, make_session
from portal import db, whatif
from portal.models import AuditEvent, Booking, BookingDeadline, ClosureDay, DeadlineMove
from portal.plugins import hookimpl
from portal.recompute import DeadlineChange, PlanRecord
from portal.rules import JST, ClosureRule, Exam, Msg, ProviderInfo, end_of_day


NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)  # Tuesday
SUNDAY_EXAM = datetime(2026, 11, 29, 10, 0, tzinfo=JST)  # PRM-DL-1: 4 business days before → Tue 11-24 (today)
LATER_EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)  # Saturday → Tue 12-08
HX = {"HX-Request": "true"}
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|CREATE|DROP|ALTER|TRUNCATE|LOCK)\b|FOR\s+UPDATE|FOR\s+SHARE",
                    re.IGNORECASE)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(client, token, url, data, htmx=True):
    return client.post(url, data=data, headers={"X-CSRFToken": token, **(HX if htmx else {})})


def _plan_of(body: str) -> str:
    """The fingerprint of the plan a preview shows ("" when it shows none)."""
    found = re.search(r'data-plan="([0-9a-f]+)"', body)
    return found.group(1) if found else ""


def _deadlines(app, booking_id):
    with app.app_context():
        rows = db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking_id)).all()
        return {r.kind: r.at for r in rows}


def _two_bookings(app, org_id):
    soon = make_booking(app, org_id, make_session(app, org_id, start=SUNDAY_EXAM, capacity=10), make_candidate(app, org_id))
    later = make_booking(app, org_id, make_session(app, org_id, start=LATER_EXAM, capacity=10),
                         make_candidate(app, org_id, "佐藤", "花子"))
    return soon, later


# --------------------------------------------------------------------------- the preview


def test_preview_lists_the_moves_by_new_date_and_flags_a_move_into_the_past(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, later = _two_bookings(app, org_id)
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)
    r = _post(client, token, "/admin/providers/prometric/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "HX-Request" in r.headers["Vary"]
    assert 'data-moved="2"' in body and 'data-into-past="2"' in body  # change + cancel of one booking
    assert "この変更で期限2件が変わります" in body and "予約 1件" in body and 'data-flag="past"' in body
    assert "2026-11-20" in body and "山田 太郎" in body and "PRM-DL-1" in body and "臨時休業" in body
    assert f'data-move="prometric-change-booking-{soon}"' in body and f"booking-{later}" not in body
    assert f'href="/bookings/{soon}"' in body  # the booking's page
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)  # nothing saved
    with app.app_context():
        assert db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).first() is None


def test_preview_flags_today_and_past_and_counts_every_move_while_listing_the_first(app):
    from portal.recompute import RecomputePlan

    def change(records, new_day, kind="change"):
        new = end_of_day(new_day) if new_day else None
        return DeadlineChange("booking", tuple(records), kind, end_of_day(date(2026, 12, 1)), new, "R-1", Msg("理由", "why"))

    plan = RecomputePlan(1, "prometric", (change([1], date(2026, 11, 24)), change([2], date(2026, 11, 20)),
                                          change([3, 4], date(2026, 11, 30)), change([3], date(2026, 11, 30), "cancel"),
                                          change([5], None)))
    with app.test_request_context("/"):
        ctx = app.extensions["exam_portal.providers"].default_context("prometric")
        preview = whatif.summarise(ctx, plan, today=date(2026, 11, 24), listed=4)
    assert preview.moved == 6 and preview.into_past == 2 and preview.unlisted == 2
    assert [(source, count) for source, _what, count in preview.records] == [("booking", 5)]  # 5 bookings
    assert [(g.day, g.today, g.past, [m.record_id for m in g.moves]) for g in preview.groups] == [
        (date(2026, 11, 20), False, True, [2]), (date(2026, 11, 24), True, True, [1]), (date(2026, 11, 30), False, False, [3, 3])]
    assert whatif.fingerprint(plan) == whatif.fingerprint(RecomputePlan(1, "prometric", tuple(reversed(plan.changes))))
    assert whatif.fingerprint(plan) != whatif.fingerprint(RecomputePlan(1, "prometric", plan.changes[:-1]))
    bigger = (*plan.changes[:2], change([3, 4, 6], date(2026, 11, 30)), *plan.changes[3:])
    assert whatif.fingerprint(plan) != whatif.fingerprint(RecomputePlan(1, "prometric", bigger))


def test_incomplete_input_gets_a_hint_not_an_error(app, logged_in):
    client, _, _, token = logged_in
    r = _post(client, token, "/admin/providers/prometric/closures/preview", {"label": "臨時休業", "start_date": "2026-13-45"})
    assert r.status_code == 200 and 'data-whatif-incomplete="start_date"' in r.get_data(as_text=True)
    assert _plan_of(r.get_data(as_text=True)) == ""
    assert _post(client, token, "/admin/providers/nope/closures/preview", {}).status_code == 404


def test_a_preview_writes_nothing_and_issues_no_write_statement(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    _two_bookings(app, org_id)
    engine = app.extensions["exam_portal.engine"]

    def snapshot():
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT * FROM "{t}" ORDER BY id')).all()
                    for t in inspect(engine).get_table_names() if t != "alembic_version"}

    before = snapshot()
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for url, data in [("/admin/providers/prometric/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"}),
                          ("/admin/providers/prometric/settings/preview", {"holiday_exam_extra_day": "on", "refund_transfer_fee": "0"}),
                          ("/admin/providers/prometric/catalog/preview", {"code": "NEW-1", "name": "新試験", "price": "100"}),
                          ("/p/odyssey/catalog/preview", {"code": "X1", "name": "x", "family": "ic3"})]:
            r = _post(client, token, url, data)
            assert r.status_code == 200, (url, r.get_data(as_text=True))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    preview_statements = [s for s in statements if "closure_day" in s or "booking_deadline" in s]
    assert preview_statements, "the previews read the rules and the stored deadlines"
    assert [s for s in statements if WRITES.search(s)] == []
    assert snapshot() == before


def test_a_preview_takes_no_write_lock(frozen, app, logged_in):
    """A writer holds the database (SQLite's write lock; on PostgreSQL an EXCLUSIVE table lock,
    which lets readers pass): the preview still answers, it never waits for a write lock."""
    _, org_id, _, _ = logged_in
    _two_bookings(app, org_id)
    engine = app.extensions["exam_portal.engine"]
    answers = []

    def preview():
        with app.test_request_context("/"):
            edit = whatif.RulesEdit(add_closures=(ClosureRule(date(2026, 11, 25), date(2026, 11, 25), Msg("臨時", "closed")),))
            answers.append(whatif.preview(org_id, "prometric", edit))

    with engine.connect() as writer:
        with writer.begin():  # BEGIN IMMEDIATE on SQLite: the write lock is held until this block ends
            writer.execute(text("UPDATE organization SET name = name"))
            if engine.dialect.name == "postgresql":
                writer.execute(text("LOCK TABLE booking_deadline, booking, closure_day IN EXCLUSIVE MODE"))
            thread = threading.Thread(target=preview)
            thread.start()
            thread.join(timeout=20)  # a preview waiting for the lock would still be blocked here
            assert not thread.is_alive() and answers[0].moved == 2


def test_preview_statements_do_not_grow_with_the_number_of_bookings(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    engine = app.extensions["exam_portal.engine"]

    def count_statements():
        statements = []
        listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            r = _post(client, token, "/admin/providers/prometric/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"})
            assert r.status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    session_id = make_session(app, org_id, start=SUNDAY_EXAM, capacity=40)
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    count_statements()  # warm: the rule contexts are cached per rules version
    few = count_statements()
    for i in range(15):
        make_booking(app, org_id, make_session(app, org_id, start=SUNDAY_EXAM + timedelta(days=i % 3), capacity=2),
                     make_candidate(app, org_id, given=f"{i:02d}"))
    assert count_statements() == few


# --------------------------------------------------------------------------- the save


def test_the_save_applies_exactly_the_previewed_plan_and_records_it(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, later = _two_bookings(app, org_id)
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    shown = _post(client, token, "/admin/providers/prometric/closures/preview", data).get_data(as_text=True)
    moves = dict(re.findall(r'data-move="([^"]+)".*?<strong>([^<]+)</strong>', shown, re.S))
    r = _post(client, token, "/admin/providers/prometric/closures", {**data, "plan": _plan_of(shown)})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "期限2件を変更しました" in body and "2026-11-25" in body
    stored = _deadlines(app, soon)
    assert stored["change"] == stored["cancel"] == datetime(2026, 11, 20, 23, 59, tzinfo=JST)
    assert set(moves) == {f"prometric-change-booking-{soon}", f"prometric-cancel-booking-{soon}"}
    assert all(value.startswith("2026-11-20") for value in moves.values())
    assert _deadlines(app, later)["change"] == datetime(2026, 12, 8, 23, 59, tzinfo=JST)
    with app.app_context():
        s = db.session()
        assert s.get(Booking, soon).next_deadline_at == datetime(2026, 11, 20, 23, 59, tzinfo=JST)
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["deadlines_moved"] == 2 and event.after["records_moved"] == {"booking": 1}
        logged = s.exec(select(DeadlineMove).order_by(DeadlineMove.kind)).all()
        assert [(m.uid, m.old_at.date(), m.new_at.date()) for m in logged] == [
            (f"prometric-cancel-booking-{soon}", date(2026, 11, 24), date(2026, 11, 20)),
            (f"prometric-change-booking-{soon}", date(2026, 11, 24), date(2026, 11, 20))]


def test_a_plan_that_changed_meanwhile_is_not_saved_and_the_new_one_is_shown(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    stale = _plan_of(_post(client, token, "/admin/providers/prometric/closures/preview", data).get_data(as_text=True))
    with app.app_context():  # meanwhile another operator books the same session
        session_id = db.session().get(Booking, soon).session_id
    other = make_booking(app, org_id, session_id, make_candidate(app, org_id, "鈴木", "一郎"))
    r = _post(client, token, "/admin/providers/prometric/closures", {**data, "plan": stale})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "確認した内容から期限の変更が変わりました" in body
    assert 'data-moved="4"' in body and "鈴木 一郎" in body and _plan_of(body) not in ("", stale)
    assert _deadlines(app, other)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)  # nothing saved
    with app.app_context():
        assert db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).first() is None
        assert db.session().exec(select(DeadlineMove)).first() is None
    r = _post(client, token, "/admin/providers/prometric/closures", {**data, "plan": _plan_of(body)})
    assert r.status_code == 200 and "期限4件を変更しました" in r.get_data(as_text=True)
    assert _deadlines(app, other)["change"] == datetime(2026, 11, 20, 23, 59, tzinfo=JST)


def _statements_of(app, call):
    engine = app.extensions["exam_portal.engine"]
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return call(), statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_a_form_saved_before_its_preview_shows_the_preview_first_and_writes_nothing(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    r, statements = _statements_of(app, lambda: _post(client, token, "/admin/providers/prometric/closures",
                                                      {"label": "臨時休業", "start_date": "2026-11-25", "plan": ""}))
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "まだ保存していません" in body and 'data-moved="2"' in body
    assert [s for s in statements if WRITES.search(s)] == []
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)


def test_removing_a_closure_is_confirmed_with_its_preview(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    _post(client, token, "/admin/providers/prometric/closures", data)  # a script's direct save (no plan field)
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 20, 23, 59, tzinfo=JST)
    with app.app_context():
        closure_id = db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).one().id
    first, statements = _statements_of(app, lambda: _post(client, token, f"/admin/closures/{closure_id}/delete", {"plan": ""}))
    assert [s for s in statements if WRITES.search(s)] == []  # the first press only shows what it would move
    body = first.get_data(as_text=True)
    assert first.status_code == 422 and f'data-closure-confirm="{closure_id}"' in body and 'data-moved="2"' in body
    assert "2026-11-24" in body and 'data-flag="today"' in body
    r = _post(client, token, f"/admin/closures/{closure_id}/delete", {"plan": _plan_of(body)})
    assert r.status_code == 200 and "期限2件を変更しました" in r.get_data(as_text=True)
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "closure_day", AuditEvent.action == "delete")).one()
        assert event.after["deadlines_moved"] == 2


def test_settings_and_catalog_edits_are_previewed_and_saved_with_their_plan(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    holiday_exam = datetime(2027, 11, 23, 10, tzinfo=JST)  # Tuesday, 勤労感謝の日
    booking = make_booking(app, org_id, make_session(app, org_id, start=holiday_exam), make_candidate(app, org_id))
    before = _deadlines(app, booking)["change"]
    settings = {"holiday_exam_extra_day": "on", "refund_transfer_fee": "330"}
    shown = _post(client, token, "/admin/providers/prometric/settings/preview", settings).get_data(as_text=True)
    assert 'data-moved="2"' in shown and 'data-into-past="0"' in shown
    first = _post(client, token, "/admin/providers/prometric/settings", {**settings, "plan": ""}).get_data(as_text=True)
    assert "まだ保存していません" in first and _plan_of(first) == _plan_of(shown)
    assert re.search(r'name="holiday_exam_extra_day" checked', first) and 'value="330"' in first  # the form as sent
    bad = _post(client, token, "/admin/providers/prometric/settings/preview", {"refund_transfer_fee": "abc"})
    assert 'data-whatif-incomplete="refund_transfer_fee"' in bad.get_data(as_text=True)
    r = _post(client, token, "/admin/providers/prometric/settings", {**settings, "plan": _plan_of(shown)})
    assert r.status_code == 200 and _deadlines(app, booking)["change"] < before
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "provider_setting")).one()
        assert event.after["deadlines_moved"] == 2 and event.after["refund_transfer_fee"] == 330

    entry = {"code": "NEW-1", "name": "新しい試験", "price": "12,000"}
    shown = _post(client, token, "/admin/providers/prometric/catalog/preview", entry).get_data(as_text=True)
    assert 'data-moved="0"' in shown and "この変更で変わる期限はありません" in shown
    r = _post(client, token, "/admin/providers/prometric/catalog", {**entry, "plan": _plan_of(shown)})
    assert r.status_code == 200 and 'data-exam="NEW-1"' in r.get_data(as_text=True)
    assert "期限は変わりませんでした" in r.get_data(as_text=True)
    r = _post(client, token, "/admin/providers/prometric/catalog", {**entry, "name": "改名", "plan": ""})
    assert r.status_code == 200 and "期限は変わりませんでした" in r.get_data(as_text=True)  # nothing to confirm


# --------------------------------------------------------------------------- a provider added later


class LaterStore:
    """A provider added later that stores a deadline of its own (in memory here)."""

    stored: dict[int, datetime] = {}
    EXAM_DAY = date(2026, 12, 4)  # Friday
    SOURCE = "later_store_session"

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="later_store", name=Msg("後発団体検定", "Later group exam"), exams=(Exam("G1", "団体1級"),),
                            deadline_kinds=("application",))

    @hookimpl
    def provider_recompute_plan(self, ctx, organization_id):
        if ctx.provider.id != "later_store":
            return []
        shift = ctx.calendar.business_days_before(self.EXAM_DAY, 3)
        new, old = end_of_day(shift.day), LaterStore.stored[7]
        why = Msg(f"3営業日前({shift.skipped_text('ja')})", f"3 business days before ({shift.skipped_text('en')})")
        return [] if new == old else [DeadlineChange(self.SOURCE, (7,), "application", old, new, "LS-1", why)]

    @hookimpl
    def provider_recompute_apply(self, ctx, organization_id, changes):
        mine = [(c, record) for c in changes if c.source == self.SOURCE for record in c.records]
        for c, record in mine:
            LaterStore.stored[record] = c.new_at
        return len(mine)

    @hookimpl
    def provider_recompute_records(self, ctx, organization_id, records):
        return [PlanRecord(self.SOURCE, record, Msg("団体受験の回", "group session"), "第7回 団体検定", "G1", "/p/later/7",
                           "later_store-{kind}-session-7") for source, record in records if source == self.SOURCE]


def test_a_provider_added_later_is_previewed_and_saved_through_its_hooks(frozen, make_app, org_factory):
    from conftest import csrf_token, login
    LaterStore.stored = {7: end_of_day(date(2026, 12, 1))}
    app = make_app(plugins=[LaterStore()])
    client = app.test_client()
    org_id, _, email, password = org_factory()
    login(client, email, password)
    token = csrf_token(client)
    data = {"label": "臨時休業", "start_date": "2026-12-02"}
    shown = _post(client, token, "/admin/providers/later_store/closures/preview", data).get_data(as_text=True)
    assert 'data-moved="1"' in shown and "団体受験の回 1件" in shown and "第7回 団体検定" in shown and "LS-1" in shown
    r = _post(client, token, "/admin/providers/later_store/closures", {**data, "plan": _plan_of(shown)})
    assert r.status_code == 200 and LaterStore.stored[7] == end_of_day(date(2026, 11, 30))


# --------------------------------------------------------------------------- the command line


def test_the_cli_prints_the_same_preview_for_scripts_and_writes_nothing(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    shown = _post(client, token, "/admin/providers/prometric/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["closures", "preview", "prometric", "--add", "2026-11-25", "--org", str(org_id)])
    assert result.exit_code == 0, result.output
    assert "変わる期限 2件" in result.output and "[PAST]" in result.output and "2026-11-20" in result.output
    assert f"plan {_plan_of(shown.get_data(as_text=True))}" in result.output
    result = runner.invoke(args=["closures", "preview", "prometric", "--add", "2026-11-25", "--format", "json", "--lang", "en"])
    [answer] = json.loads(result.output)  # every organisation using the provider: only this one here
    assert answer["organization"]["id"] == org_id and answer["deadlines_moved"] == 2
    assert {m["uid"] for m in answer["moves"]} == {f"prometric-change-booking-{soon}", f"prometric-cancel-booking-{soon}"}
    assert all(m["into_past_or_today"] and m["new"].startswith("2026-11-20") for m in answer["moves"])
    # the yearly 年末年始 closure removed: a booking's deadline in early January would move; none here
    result = runner.invoke(args=["closures", "preview", "prometric", "--remove", "2026-12-30", "--format", "json"])
    [answer] = json.loads(result.output)
    assert [c["yearly"] for c in answer["removed_closures"]] == [True] and answer["deadlines_moved"] == 0
    assert _deadlines(app, soon)["change"] == datetime(2026, 11, 24, 23, 59, tzinfo=JST)
    assert runner.invoke(args=["closures", "preview", "prometric", "--add", "2026-11-25", "--org", "999999"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "nope", "--add", "2026-11-25"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "prometric"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "prometric", "--add", "25/11/2026"]).exit_code != 0


# --------------------------------------------------------------------------- preview == save (property)


@pytest.fixture
def demo(frozen, app):
    """The demo organisation (``flask seed-demo``) at NOW; returns its id."""
    from conftest import seed_demo_and_login
    _, org_id = seed_demo_and_login(app)
    return org_id


def _stored_value(s, move):
    from plugins.odyssey.models import OdysseyExamDay
    if move.change.source == "booking":
        row = s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == move.record_id,
                                                   BookingDeadline.kind == move.change.kind)).first()
        return row.at if row else None
    if move.change.source == "odyssey_exam_day":
        return s.get(OdysseyExamDay, move.record_id).application_deadline
    raise AssertionError(f"unknown source {move.change.source}")


def _assert_stored_deadlines_follow_the_rules(s, org_id, provider_id):
    """The oracle: every stored deadline is what the provider answers under the stored rules."""
    from plugins.odyssey import deadlines as odyssey_deadlines
    from plugins.odyssey.models import OdysseyExamDay
    from portal.bookings import org_context, providers
    from portal.models import ExamSession
    from portal.rules import DeadlineQuery, jst
    ctx = org_context(s, org_id, provider_id)
    rows = s.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == org_id, Booking.provider == provider_id, Booking.status == "booked")).all()
    for booking, exam_session in rows:
        expected = {d.kind: d.at for d in providers().deadlines(ctx, DeadlineQuery(exam_session.exam, exam_session.start))}
        assert _deadlines_in(s, booking.id) == expected
        assert booking.next_deadline_at == min(expected.values(), default=None)
    if provider_id == "odyssey":
        for day in s.exec(select(OdysseyExamDay).where(OdysseyExamDay.organization_id == org_id,
                                                       OdysseyExamDay.state == "draft")).all():
            assert day.application_deadline == odyssey_deadlines.application_deadline(ctx.calendar, jst(day.exam_start).date()).at


def _deadlines_in(s, booking_id):
    return {r.kind: r.at for r in s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking_id)).all()}


def test_the_preview_equals_what_the_save_writes_on_the_demo_data(app, demo):
    """Random closure edits on the demo data: the save (same code path, fingerprint checked)
    accepts the previewed plan, stores exactly its new values, and the result is what the rules
    say; the edit is rolled back after each example."""
    from hypothesis import HealthCheck, given, settings, strategies as st
    from portal.rule_context import closure_rows, org_context
    from portal import recompute
    org_id = demo
    with app.app_context():
        providers = app.extensions["exam_portal.providers"].ids()
        closures = {p: [r.id for r in closure_rows(db.session(), org_id, p)] for p in providers}
    today = NOW.date()
    days = st.one_of(st.dates(today, today + timedelta(days=7)),  # near: moves into the past happen here
                     st.dates(today - timedelta(days=5), today + timedelta(days=45)))
    closure = st.tuples(days, st.integers(0, 3), st.booleans())
    seen = {"moved": 0, "into_past": 0}

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        provider = data.draw(st.sampled_from(providers))
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
                    assert _stored_value(s, move) == move.change.new_at, move
                _assert_stored_deadlines_follow_the_rules(s, org_id, provider)
                ctx = org_context(s, org_id, provider)
                assert recompute.plan(s, ctx, org_id).changes == ()  # nothing left to recompute
            finally:
                s.rollback()

    check()
    assert seen["moved"] and seen["into_past"], seen  # the examples did move deadlines, some into the past


def test_applying_a_plan_whose_rows_changed_meanwhile_is_a_conflict(frozen, app, logged_in):
    """The writes are guarded on the old values: a row changed since the plan was computed
    refuses the whole save (the caller's transaction rolls back)."""
    from sqlalchemy import update
    from portal.bookings import org_context
    from portal.guard import Conflict
    from portal import recompute
    _, org_id, _, _ = logged_in
    soon, _ = _two_bookings(app, org_id)
    with app.test_request_context("/"):
        s = db.session()
        s.add(ClosureDay(organization_id=org_id, provider="prometric", start_date=date(2026, 11, 25),
                         end_date=date(2026, 11, 25), label_ja="臨時休業"))
        s.flush()
        ctx = org_context(s, org_id, "prometric")
        plan = recompute.plan(s, ctx, org_id)
        assert plan.moved == 2
        s.execute(update(BookingDeadline).where(BookingDeadline.booking_id == soon, BookingDeadline.kind == "cancel")
                  .values(at=datetime(2026, 11, 23, 23, 59, tzinfo=JST)))
        with pytest.raises(Conflict):
            recompute.apply(s, ctx, plan)
        s.rollback()


def test_the_moves_are_kept_for_the_next_reminder_digest(frozen, app, logged_in):
    """What a digest will ask: which of its items moved since the previous digest, old → new
    (twice moved: from the first old moment to the last new one)."""
    from portal.deadline_moves import moved_since
    client, org_id, _, token = logged_in
    soon, later = _two_bookings(app, org_id)
    _post(client, token, "/admin/providers/prometric/closures", {"label": "臨時休業", "start_date": "2026-11-25"})
    frozen.shift(timedelta(hours=1))
    _post(client, token, "/admin/providers/prometric/closures", {"label": "臨時休業2", "start_date": "2026-11-20"})
    uids = [f"prometric-change-booking-{soon}", f"prometric-change-booking-{later}"]
    with app.app_context():
        s = db.session()
        moved = moved_since(s, org_id, uids, NOW - timedelta(days=1))
        assert set(moved) == {uids[0]}  # the later booking's deadline did not move
        assert moved[uids[0]].old_at == datetime(2026, 11, 24, 23, 59, tzinfo=JST)
        assert moved[uids[0]].new_at == datetime(2026, 11, 19, 23, 59, tzinfo=JST)
        assert moved_since(s, org_id, uids, NOW + timedelta(minutes=30))[uids[0]].old_at.day == 20  # the second move only
        assert moved_since(s, org_id + 1, uids, NOW - timedelta(days=1)) == {}  # another organisation's digest
