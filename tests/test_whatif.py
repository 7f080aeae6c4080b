"""What-if of closure days, settings and catalog edits (portal.whatif): the preview shows the
plan the save then writes, flags moves into the past, writes nothing; stale plans are refused."""
import json
import re
import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text
from sqlmodel import select

from helpers import WRITES, check_preview_equals_save, every_row, make_booking, make_candidate, make_session, statements_of
from portal import db, whatif
from portal.models import AuditEvent, Booking, BookingDeadline, ClosureDay, DeadlineMove
from portal.plugins import hookimpl
from portal.recompute import DeadlineChange, PlanRecord
from portal.rules import JST, ClosureRule, Exam, Msg, ProviderInfo, end_of_day


NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)  # Tuesday
# The sample provider (SMP-DL-1): the essay is due 5 business days before the exam, the
# application 10 (Mon 11-23 勤労感謝の日 is not counted).
SOON_EXAM = datetime(2026, 12, 1, 10, 0, tzinfo=JST)  # essay Tue 11-24 (today), application Mon 11-16
LATER_EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)  # Saturday: essay Mon 12-07, application Mon 11-30
# A closure on Wed 11-25 moves SOON_EXAM's essay to Fri 11-20 and its application to Fri 11-13.
TODAY_ESSAY, ESSAY_AFTER, APPLICATION_AFTER = (end_of_day(date(2026, 11, d)) for d in (24, 20, 13))
HX = {"HX-Request": "true"}


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


def _get(app, model, ident):
    with app.app_context():
        return db.session().get(model, ident)


def _deadlines(app, booking_id):
    with app.app_context():
        rows = db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking_id)).all()
        return {r.kind: r.at for r in rows}


def _two_bookings(app, org_id):
    soon = make_booking(app, org_id, make_session(app, org_id, start=SOON_EXAM, capacity=10), make_candidate(app, org_id))
    later = make_booking(app, org_id, make_session(app, org_id, start=LATER_EXAM, capacity=10),
                         make_candidate(app, org_id, "佐藤", "花子"))
    return soon, later


# --------------------------------------------------------------------------- the preview


def test_preview_lists_the_moves_by_new_date_and_flags_a_move_into_the_past(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, later = _two_bookings(app, org_id)
    assert _deadlines(app, soon)["essay"] == TODAY_ESSAY
    r = _post(client, token, "/admin/providers/sample/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "HX-Request" in r.headers["Vary"]
    assert 'data-moved="2"' in body and 'data-into-past="2"' in body  # application + essay of one booking
    assert "この変更で期限2件が変わります" in body and "予約 1件" in body and 'data-flag="past"' in body
    assert "2026-11-20" in body and "山田 太郎" in body and "SMP-DL-1" in body and "臨時休業" in body
    assert f'data-move="sample-essay-booking-{soon}"' in body and f"booking-{later}" not in body
    assert f'href="/bookings/{soon}"' in body  # the booking's page
    assert _deadlines(app, soon)["essay"] == TODAY_ESSAY  # nothing saved
    with app.app_context():
        assert db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).first() is None


def test_preview_flags_today_and_past_and_counts_every_move_while_listing_the_first(app):
    from portal.recompute import RecomputePlan

    def change(records, new_day, kind="change"):
        new = end_of_day(new_day) if new_day else None
        return DeadlineChange("booking", tuple(records), kind, end_of_day(date(2026, 12, 1)), new, "R-1", Msg("理由", "why"))

    plan = RecomputePlan(1, "sample", (change([1], date(2026, 11, 24)), change([2], date(2026, 11, 20)),
                                          change([3, 4], date(2026, 11, 30)), change([3], date(2026, 11, 30), "cancel"),
                                          change([5], None)))
    with app.test_request_context("/"):
        ctx = app.extensions["exam_portal.providers"].default_context("sample")
        preview = whatif.summarise(ctx, plan, today=date(2026, 11, 24), listed=4)
    assert preview.moved == 6 and preview.into_past == 2 and preview.unlisted == 2
    assert [(source, count) for source, _what, count in preview.records] == [("booking", 5)]  # 5 bookings
    assert [(g.day, g.today, g.past, [m.record_id for m in g.moves]) for g in preview.groups] == [
        (date(2026, 11, 20), False, True, [2]), (date(2026, 11, 24), True, True, [1]), (date(2026, 11, 30), False, False, [3, 3])]
    assert whatif.fingerprint(plan) == whatif.fingerprint(RecomputePlan(1, "sample", tuple(reversed(plan.changes))))
    assert whatif.fingerprint(plan) != whatif.fingerprint(RecomputePlan(1, "sample", plan.changes[:-1]))
    bigger = (*plan.changes[:2], change([3, 4, 6], date(2026, 11, 30)), *plan.changes[3:])
    assert whatif.fingerprint(plan) != whatif.fingerprint(RecomputePlan(1, "sample", bigger))


def test_incomplete_input_gets_a_hint_not_an_error(app, logged_in):
    client, _, _, token = logged_in
    r = _post(client, token, "/admin/providers/sample/closures/preview", {"label": "臨時休業", "start_date": "2026-13-45"})
    assert r.status_code == 200 and 'data-whatif-incomplete="start_date"' in r.get_data(as_text=True)
    assert _plan_of(r.get_data(as_text=True)) == ""
    assert _post(client, token, "/admin/providers/nope/closures/preview", {}).status_code == 404


def test_a_preview_writes_nothing_and_issues_no_write_statement(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    _two_bookings(app, org_id)
    before = every_row(app)
    previews = [("/admin/providers/sample/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"}),
                ("/admin/providers/sample/settings/preview", {"early_close": "on", "refund_fee": "0"}),
                ("/admin/providers/sample/catalog/preview", {"code": "NEW-1", "name": "新試験", "price": "100"})]
    responses, statements = statements_of(app, lambda: [_post(client, token, url, data) for url, data in previews])
    for (url, _), r in zip(previews, responses):
        assert r.status_code == 200, (url, r.get_data(as_text=True))
    preview_statements = [s for s in statements if "closure_day" in s or "booking_deadline" in s]
    assert preview_statements, "the previews read the rules and the stored deadlines"
    assert [s for s in statements if WRITES.search(s)] == []
    assert every_row(app) == before


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
            answers.append(whatif.preview(org_id, "sample", edit))

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

    def count_statements():
        r, statements = statements_of(app, lambda: _post(client, token, "/admin/providers/sample/closures/preview",
                                                         {"label": "臨時休業", "start_date": "2026-11-25"}))
        assert r.status_code == 200
        return len(statements)

    session_id = make_session(app, org_id, start=SOON_EXAM, capacity=40)
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    count_statements()  # warm: the rule contexts are cached per rules version
    few = count_statements()
    for i in range(15):
        make_booking(app, org_id, make_session(app, org_id, start=SOON_EXAM + timedelta(days=i % 3), capacity=2),
                     make_candidate(app, org_id, given=f"{i:02d}"))
    assert count_statements() == few


# --------------------------------------------------------------------------- the save


def test_the_save_applies_exactly_the_previewed_plan_and_records_it(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, later = _two_bookings(app, org_id)
    assert _get(app, Booking, soon).next_deadline_at == TODAY_ESSAY  # the application had closed when booked
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    shown = _post(client, token, "/admin/providers/sample/closures/preview", data).get_data(as_text=True)
    moves = dict(re.findall(r'data-move="([^"]+)".*?<strong>([^<]+)</strong>', shown, re.S))
    r = _post(client, token, "/admin/providers/sample/closures", {**data, "plan": _plan_of(shown)})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "期限2件を変更しました" in body and "2026-11-25" in body
    assert _deadlines(app, soon) == {"application": APPLICATION_AFTER, "essay": ESSAY_AFTER}
    assert set(moves) == {f"sample-application-booking-{soon}", f"sample-essay-booking-{soon}"}
    assert moves[f"sample-application-booking-{soon}"].startswith("2026-11-13")
    assert moves[f"sample-essay-booking-{soon}"].startswith("2026-11-20")
    assert _deadlines(app, later)["essay"] == end_of_day(date(2026, 12, 7))
    with app.app_context():
        s = db.session()
        # both now fall before the booking was made: closed, so neither is its next deadline
        assert s.get(Booking, soon).next_deadline_at is None and s.get(Booking, later).next_deadline_at == end_of_day(date(2026, 11, 30))
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["deadlines_moved"] == 2 and event.after["records_moved"] == {"booking": 1}
        logged = s.exec(select(DeadlineMove).order_by(DeadlineMove.kind)).all()
        assert [(m.uid, m.old_at.date(), m.new_at.date()) for m in logged] == [
            (f"sample-application-booking-{soon}", date(2026, 11, 16), date(2026, 11, 13)),
            (f"sample-essay-booking-{soon}", date(2026, 11, 24), date(2026, 11, 20))]


def test_a_deadline_closed_when_booked_never_becomes_the_next_one_by_a_recompute(frozen, app, logged_in):
    """A closure on Fri 11-20 moves only the application of the booking for 12-01 (11-16 → 11-13),
    which had closed before it was booked: its next deadline stays the open essay (as when booked)."""
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    r = _post(client, token, "/admin/providers/sample/closures", {"label": "臨時休業", "start_date": "2026-11-20"})
    assert r.status_code == 200 and "期限1件を変更しました" in r.get_data(as_text=True)
    assert _deadlines(app, soon) == {"application": APPLICATION_AFTER, "essay": TODAY_ESSAY}
    assert _get(app, Booking, soon).next_deadline_at == TODAY_ESSAY


def test_a_plan_that_changed_meanwhile_is_not_saved_and_the_new_one_is_shown(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    stale = _plan_of(_post(client, token, "/admin/providers/sample/closures/preview", data).get_data(as_text=True))
    with app.app_context():  # meanwhile another operator books the same session
        session_id = db.session().get(Booking, soon).session_id
    other = make_booking(app, org_id, session_id, make_candidate(app, org_id, "鈴木", "一郎"))
    r = _post(client, token, "/admin/providers/sample/closures", {**data, "plan": stale})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "確認した内容から期限の変更が変わりました" in body
    assert 'data-moved="4"' in body and "鈴木 一郎" in body and _plan_of(body) not in ("", stale)
    assert _deadlines(app, other)["essay"] == TODAY_ESSAY  # nothing saved
    with app.app_context():
        assert db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).first() is None
        assert db.session().exec(select(DeadlineMove)).first() is None
    r = _post(client, token, "/admin/providers/sample/closures", {**data, "plan": _plan_of(body)})
    assert r.status_code == 200 and "期限4件を変更しました" in r.get_data(as_text=True)
    assert _deadlines(app, other)["essay"] == ESSAY_AFTER


def test_a_form_saved_before_its_preview_shows_the_preview_first_and_writes_nothing(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    r, statements = statements_of(app, lambda: _post(client, token, "/admin/providers/sample/closures",
                                                      {"label": "臨時休業", "start_date": "2026-11-25", "plan": ""}))
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "まだ保存していません" in body and 'data-moved="2"' in body
    assert [s for s in statements if WRITES.search(s)] == []
    assert _deadlines(app, soon)["essay"] == TODAY_ESSAY


def test_removing_a_closure_is_confirmed_with_its_preview(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    soon, _ = _two_bookings(app, org_id)
    data = {"label": "臨時休業", "start_date": "2026-11-25"}
    _post(client, token, "/admin/providers/sample/closures", data)  # a script's direct save (no plan field)
    assert _deadlines(app, soon)["essay"] == ESSAY_AFTER
    with app.app_context():
        closure_id = db.session().exec(select(ClosureDay).where(ClosureDay.start_date == date(2026, 11, 25))).one().id
    first, statements = statements_of(app, lambda: _post(client, token, f"/admin/closures/{closure_id}/delete", {"plan": ""}))
    assert [s for s in statements if WRITES.search(s)] == []  # the first press only shows what it would move
    body = first.get_data(as_text=True)
    assert first.status_code == 422 and f'data-closure-confirm="{closure_id}"' in body and 'data-moved="2"' in body
    assert "2026-11-24" in body and 'data-flag="today"' in body
    r = _post(client, token, f"/admin/closures/{closure_id}/delete", {"plan": _plan_of(body)})
    assert r.status_code == 200 and "期限2件を変更しました" in r.get_data(as_text=True)
    assert _deadlines(app, soon)["essay"] == TODAY_ESSAY
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "closure_day", AuditEvent.action == "delete")).one()
        assert event.after["deadlines_moved"] == 2


def test_settings_and_catalog_edits_are_previewed_and_saved_with_their_plan(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    booking = make_booking(app, org_id, make_session(app, org_id, start=LATER_EXAM), make_candidate(app, org_id))
    assert _deadlines(app, booking) == {"application": end_of_day(date(2026, 11, 30)), "essay": end_of_day(date(2026, 12, 7))}
    settings = {"early_close": "on", "refund_fee": "330"}  # SMP-DL-2: both deadlines one business day earlier
    shown = _post(client, token, "/admin/providers/sample/settings/preview", settings).get_data(as_text=True)
    assert 'data-moved="2"' in shown and 'data-into-past="0"' in shown
    first = _post(client, token, "/admin/providers/sample/settings", {**settings, "plan": ""}).get_data(as_text=True)
    assert "まだ保存していません" in first and _plan_of(first) == _plan_of(shown)
    assert re.search(r'name="early_close" checked', first) and 'value="330"' in first  # the form as sent
    bad = _post(client, token, "/admin/providers/sample/settings/preview", {"refund_fee": "abc"})
    assert 'data-whatif-incomplete="refund_fee"' in bad.get_data(as_text=True)
    r = _post(client, token, "/admin/providers/sample/settings", {**settings, "plan": _plan_of(shown)})
    assert r.status_code == 200
    assert _deadlines(app, booking) == {"application": end_of_day(date(2026, 11, 27)), "essay": end_of_day(date(2026, 12, 4))}
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "provider_setting")).one()
        assert event.after["deadlines_moved"] == 2 and event.after["refund_fee"] == 330

    entry = {"code": "NEW-1", "name": "新しい試験", "price": "12,000"}
    shown = _post(client, token, "/admin/providers/sample/catalog/preview", entry).get_data(as_text=True)
    assert 'data-moved="0"' in shown and "この変更で変わる期限はありません" in shown
    r = _post(client, token, "/admin/providers/sample/catalog", {**entry, "plan": _plan_of(shown)})
    assert r.status_code == 200 and 'data-exam="NEW-1"' in r.get_data(as_text=True)
    assert "期限は変わりませんでした" in r.get_data(as_text=True)
    r = _post(client, token, "/admin/providers/sample/catalog", {**entry, "name": "改名", "plan": ""})
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
    shown = _post(client, token, "/admin/providers/sample/closures/preview", {"label": "臨時休業", "start_date": "2026-11-25"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["closures", "preview", "sample", "--add", "2026-11-25", "--org", str(org_id)])
    assert result.exit_code == 0, result.output
    assert "変わる期限 2件" in result.output and "[PAST]" in result.output and "2026-11-20" in result.output
    assert f"plan {_plan_of(shown.get_data(as_text=True))}" in result.output
    result = runner.invoke(args=["closures", "preview", "sample", "--add", "2026-11-25", "--format", "json", "--lang", "en"])
    [answer] = json.loads(result.output)  # every organisation using the provider: only this one here
    assert answer["organization"]["id"] == org_id and answer["deadlines_moved"] == 2
    assert {m["uid"]: m["new"][:10] for m in answer["moves"]} == {f"sample-application-booking-{soon}": "2026-11-13",
                                                                  f"sample-essay-booking-{soon}": "2026-11-20"}
    assert all(m["into_past_or_today"] for m in answer["moves"])
    # the yearly 年末年始 closure removed: a booking's deadline in early January would move; none here
    result = runner.invoke(args=["closures", "preview", "sample", "--remove", "2026-12-30", "--format", "json"])
    [answer] = json.loads(result.output)
    assert [c["yearly"] for c in answer["removed_closures"]] == [True] and answer["deadlines_moved"] == 0
    assert _deadlines(app, soon)["essay"] == TODAY_ESSAY
    assert runner.invoke(args=["closures", "preview", "sample", "--add", "2026-11-25", "--org", "999999"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "nope", "--add", "2026-11-25"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "sample"]).exit_code != 0
    assert runner.invoke(args=["closures", "preview", "sample", "--add", "25/11/2026"]).exit_code != 0


# --------------------------------------------------------------------------- preview == save (property)


def test_the_preview_equals_what_the_save_writes_on_the_demo_data(frozen, make_app):
    """Random closure edits on the demo data (``flask seed-demo``) of the sample provider and
    every installed one; a plugin's own records are read by its own tests (Odyssey's exam days:
    plugins/odyssey/tests/test_whatif.py)."""
    from conftest import seed_demo_and_login
    app = make_app(EXAM_PORTAL_PLUGINS=None)
    _, org_id = seed_demo_and_login(app)
    providers = app.extensions["exam_portal.providers"].ids()
    assert "sample" in providers
    seen = check_preview_equals_save(app, org_id, providers, NOW.date())
    assert seen["moved"] and seen["into_past"], seen  # the examples did move deadlines, some into the past
    assert "booking" in seen["read"]


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
        s.add(ClosureDay(organization_id=org_id, provider="sample", start_date=date(2026, 11, 25),
                         end_date=date(2026, 11, 25), label_ja="臨時休業"))
        s.flush()
        ctx = org_context(s, org_id, "sample")
        plan = recompute.plan(s, ctx, org_id)
        assert plan.moved == 2
        s.execute(update(BookingDeadline).where(BookingDeadline.booking_id == soon, BookingDeadline.kind == "essay")
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
    _post(client, token, "/admin/providers/sample/closures", {"label": "臨時休業", "start_date": "2026-11-25"})
    frozen.shift(timedelta(hours=1))
    _post(client, token, "/admin/providers/sample/closures", {"label": "臨時休業2", "start_date": "2026-11-20"})
    uids = [f"sample-essay-booking-{soon}", f"sample-essay-booking-{later}"]
    with app.app_context():
        s = db.session()
        moved = moved_since(s, org_id, uids, NOW - timedelta(days=1))
        assert set(moved) == {uids[0]}  # the later booking's deadline did not move
        assert moved[uids[0]].old_at == TODAY_ESSAY
        assert moved[uids[0]].new_at == end_of_day(date(2026, 11, 19))
        assert moved_since(s, org_id, uids, NOW + timedelta(minutes=30))[uids[0]].old_at.day == 20  # the second move only
        assert moved_since(s, org_id + 1, uids, NOW - timedelta(days=1)) == {}  # another organisation's digest
