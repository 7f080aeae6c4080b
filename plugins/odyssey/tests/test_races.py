"""ODY-ST state changes under concurrency, with real threads (each its own request and
database connection; PostgreSQL when TEST_DATABASE_URL is set, SQLite always): six
operators sending the same one-time action at once, confirm racing withdraw, delete-import
racing import. Exactly one applies; the others change nothing and get a refusal with a
message and the day's current state (409, or 422 when the request began after the winner
committed); never a 500; the audit log holds exactly what happened."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from conftest import concurrently
from portal import db
from portal.models import AuditEvent
from plugins.odyssey.models import OdysseyCandidate, OdysseyExamDay, OdysseyImport, OdysseyVenue
from plugins.odyssey.tests.test_workflow import CANDIDATE, FIXTURES, create_day, import_file, jst, post, venue  # noqa: F401

RACERS = 6
CHANGED = "同時に行われた他の操作で先に"


def version_of(client, day_id) -> int:
    return int(re.search(r'data-version="(\d+)"', client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)).group(1))


def send(token, url, data=None, file=None):
    def call(client):
        body = dict(data or {})
        if file:
            body["file"] = (open(FIXTURES / file, "rb"), file)
            return post(client, token, url, body, content_type="multipart/form-data")
        return post(client, token, url, body)
    return call


def audit_actions(app, day_id) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "odyssey_exam_day",
                                                          AuditEvent.entity_id == day_id).order_by(AuditEvent.id)).all()
        return [(r.action, (r.after or {}).get("state")) for r in rows]


def stored_day(app, day_id):
    with app.app_context():
        s = db.session()
        day = s.get(OdysseyExamDay, day_id)
        people = s.exec(select(func.count()).select_from(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == day_id)).one()
        imported = s.exec(select(OdysseyImport).where(OdysseyImport.exam_day_id == day_id)).first()
        return day, people, imported


def assert_one_applied(results, refusal_text=CHANGED):
    """One 200; every other answer a 409 naming the race and showing the current state."""
    statuses = [status for status, _ in results]
    assert 500 not in statuses, results
    assert statuses.count(200) == 1 and statuses.count(409) == len(results) - 1, statuses
    for status, html in results:
        if status == 409:
            assert 'class="error" role="alert"' in html and refusal_text in html and "現在の状態" in html, html[:3000]


@pytest.fixture
def draft_day(venue):
    """A draft day (exam 2021-02-25, deadline 2021-02-19) with one candidate."""
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        assert post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE).status_code == 200
    return client, at, day_id


def test_confirm_six_times_at_once(app, draft_day):
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/confirm/{day_id}", {"version": version})] * RACERS)
    assert_one_applied(results)
    assert all("申込済" in html for _, html in results)  # the current state is shown to every loser
    assert stored_day(app, day_id)[0].state == "confirmed"
    assert audit_actions(app, day_id)[1:] == [("state_change", "confirmed")]


def test_withdraw_six_times_at_once(app, draft_day):
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/withdraw/{day_id}", {"version": version})] * RACERS)
    assert_one_applied(results)
    day = stored_day(app, day_id)[0]
    assert day.state == "draft" and day.confirmed_at is None
    assert audit_actions(app, day_id)[1:] == [("state_change", "confirmed"), ("state_change", "draft")]


@pytest.mark.parametrize("start", ["draft", "confirmed"])
def test_confirm_racing_withdraw(app, draft_day, start):
    """Both from the page the operators saw: whichever the day's state, exactly one of the
    two opposite clicks applies — never both (a withdraw undone by a confirm)."""
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        if start == "confirmed":
            post(client, token, f"/p/odyssey/confirm/{day_id}")
        version = version_of(client, day_id)
        calls = [send(token, f"/p/odyssey/confirm/{day_id}", {"version": version}),
                 send(token, f"/p/odyssey/withdraw/{day_id}", {"version": version})] * (RACERS // 2)
        results = concurrently(client, *calls)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(200) == 1, statuses
    winner = "confirmed" if start == "draft" else "draft"
    assert stored_day(app, day_id)[0].state == winner
    changes = [a for a in audit_actions(app, day_id) if a[0] == "state_change"]
    assert changes == ([("state_change", "confirmed")] if start == "draft"
                       else [("state_change", "confirmed"), ("state_change", "draft")])


def test_import_six_times_at_once(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/import/{day_id}", {"version": version},
                                              file="manual_example_utf8.csv")] * RACERS)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(200) == 1, statuses
    for status, html in results:
        if status != 200:
            assert status == 409 and ("インポート済みです" in html or CHANGED in html) and "現在の状態" in html, html[:3000]
    _, people, imported = stored_day(app, day_id)
    assert imported is not None and people == imported.rows == 2  # the manual example: two candidates
    assert [a for a, _ in audit_actions(app, day_id)].count("import") == 1


def _imported_day(client, at):
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        assert import_file(client, token, day_id, "manual_example_utf8.csv").status_code == 200
    return day_id


def test_delete_import_six_times_at_once(app, venue):
    client, _, at = venue
    day_id = _imported_day(client, at)
    with at(jst(2021, 2, 2, 9, 0)) as token:
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/delete-import/{day_id}", {"version": version})] * RACERS)
    assert_one_applied(results)
    _, people, imported = stored_day(app, day_id)
    assert imported is None and people == 0
    assert [a for a, _ in audit_actions(app, day_id)].count("delete_import") == 1


def test_delete_import_racing_import(app, venue):
    """The page shows the import; one operator deletes it while others import a file from
    a page that predates the import: only the delete applies, no second import sneaks in."""
    client, _, at = venue
    day_id = _imported_day(client, at)
    with at(jst(2021, 2, 2, 9, 0)) as token:
        version = version_of(client, day_id)
        calls = [send(token, f"/p/odyssey/delete-import/{day_id}", {"version": version}),
                 send(token, f"/p/odyssey/import/{day_id}", {"version": version}, file="manual_example_cp932.csv")] * 3
        results = concurrently(client, *calls)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(200) == 1, statuses
    assert all(status in (409, 422) for status in statuses if status != 200)
    assert results[statuses.index(200)][1].count('data-candidate=') == 0  # the winner is a delete
    _, people, imported = stored_day(app, day_id)
    assert imported is None and people == 0
    actions = [a for a, _ in audit_actions(app, day_id)]
    assert actions.count("import") == 1 and actions.count("delete_import") == 1


def test_late_addition_six_times_at_once(app, venue):
    client, org_id, at = venue
    with at(jst(2020, 9, 1, 9, 0)) as token:
        day_id = create_day(client, token, "2020-09-16T14:00")
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    late = {**CANDIDATE, "given_name": "三子", "code1": "VBA-EXCEL-BASIC", "kind1": "general", "late": "1"}
    with at(jst(2020, 9, 15, 9, 0)) as token:
        post(client, token, "/p/odyssey/venue", {"deposit_balance": "100000", "contract_kind": "standard"})
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/add-candidate/{day_id}", {**late, "version": version})] * RACERS)
    assert_one_applied(results)
    _, people, _ = stored_day(app, day_id)
    assert people == 2
    with app.app_context():
        assert db.session().exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).one().deposit_balance == 100000 - 11550
    assert [a for a, _ in audit_actions(app, day_id)].count("late_addition") == 1


def test_late_additions_of_different_candidates_never_overdraw_the_deposit(app, venue):
    """Six different late additions, each from a fresh page, a deposit for two of them:
    exactly two apply and the balance never goes below zero (ODY-LA)."""
    client, org_id, at = venue
    with at(jst(2020, 9, 1, 9, 0)) as token:
        day_id = create_day(client, token, "2020-09-16T14:00")
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    with at(jst(2020, 9, 15, 9, 0)) as token:
        post(client, token, "/p/odyssey/venue", {"deposit_balance": str(2 * 11550 + 100), "contract_kind": "standard"})

        def late_addition(i):
            data = {**CANDIDATE, "given_name": f"追加{i}", "code1": "VBA-EXCEL-BASIC", "kind1": "general", "late": "1"}

            def call(own):
                for _ in range(RACERS):  # a refusal for a changed day: reload the page and try again, as a user would
                    data["version"] = version_of(own, day_id)
                    response = post(own, token, f"/p/odyssey/add-candidate/{day_id}", data)
                    if response.status_code != 409 or CHANGED not in response.get_data(as_text=True):
                        return response
                return response
            return call
        results = concurrently(client, *[late_addition(i) for i in range(RACERS)])
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(200) == 2, statuses
    assert all("に足りません(ODY-LA)" in html for status, html in results if status != 200)
    with app.app_context():
        assert db.session().exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).one().deposit_balance == 100
    assert stored_day(app, day_id)[1] == 3
    assert [a for a, _ in audit_actions(app, day_id)].count("late_addition") == 2


def _confirmed_past_day(client, at):
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token, "2021-02-26T10:00")
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    return day_id


def test_results_entry_six_times_at_once(app, venue):
    client, _, at = venue
    day_id = _confirmed_past_day(client, at)
    with at(jst(2021, 2, 27, 9, 0)) as token:
        page = client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)
        test_id = re.search(r'name="outcome_(\d+)"', page).group(1)
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/results/{day_id}",
                                              {f"outcome_{test_id}": "passed", "version": version})] * RACERS)
    assert_one_applied(results)
    assert stored_day(app, day_id)[0].state == "results_entered"
    assert [s for a, s in audit_actions(app, day_id) if a == "state_change"].count("results_entered") == 1


def test_completion_six_times_at_once(app, venue):
    client, _, at = venue
    day_id = _confirmed_past_day(client, at)
    with at(jst(2021, 2, 27, 9, 0)) as token:
        page = client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)
        test_id = re.search(r'name="outcome_(\d+)"', page).group(1)
        post(client, token, f"/p/odyssey/results/{day_id}", {f"outcome_{test_id}": "failed"})
        version = version_of(client, day_id)
        results = concurrently(client, *[send(token, f"/p/odyssey/complete/{day_id}", {"version": version})] * RACERS)
    assert_one_applied(results)
    assert stored_day(app, day_id)[0].state == "completed"
    assert [s for a, s in audit_actions(app, day_id) if a == "state_change"].count("completed") == 1


def test_page_views_racing_to_advance_the_state_record_it_once(app, draft_day):
    client, at, day_id = draft_day
    with at(jst(2021, 2, 20, 0, 0, 1)):  # the deadline passed unconfirmed: expired
        results = concurrently(client, *[lambda c: c.get(f"/p/odyssey/day/{day_id}")] * RACERS)
    assert [status for status, _ in results] == [200] * RACERS
    assert [s for a, s in audit_actions(app, day_id) if a == "state_change"] == ["expired"]


def test_the_loser_sees_who_changed_the_day_in_english_too(app, draft_day):
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        version = version_of(client, day_id)
        post(client, token, f"/p/odyssey/confirm/{day_id}", {"version": version})
        r = post(client, token, f"/p/odyssey/confirm/{day_id}?lang=en", {"version": version})
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "This exam day was changed meanwhile by another request" in html and "Now: Applied" in html
    assert "Last change:" in html and "by テスト 担当" in html


def test_the_same_exam_date_registered_six_times_at_once(app, venue):
    client, org_id, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        results = concurrently(client, *[send(token, "/p/odyssey/days", {"exam_start": "2021-02-25T10:00"})] * RACERS)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(204) == 1, statuses
    for status, html in results:
        if status != 204:
            assert status in (409, 422) and ("すでに登録" in html or "先に登録" in html), (status, html[:3000])
    with app.app_context():
        days = db.session().exec(select(OdysseyExamDay).where(OdysseyExamDay.organization_id == org_id)).all()
    assert len(days) == 1
    assert [a for a, _ in audit_actions(app, days[0].id)] == ["create"]


def test_two_purge_runs_at_once_purge_and_log_each_day_once(app, draft_day):
    import threading
    from plugins.odyssey import purge
    from plugins.odyssey.models import OdysseyPurgeLog
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    barrier, outcomes = threading.Barrier(2), []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                with db.transaction() as s:
                    outcomes.append(len(purge.purge(s, jst(2021, 3, 27, 3, 0))))
            except Exception as exc:  # noqa: BLE001 — shown by the assertion
                outcomes.append(repr(exc))
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes, key=str) in ([0, 1],), outcomes
    with app.app_context():
        s = db.session()
        assert len(s.exec(select(OdysseyPurgeLog).where(OdysseyPurgeLog.exam_day_id == day_id)).all()) == 1
        assert s.exec(select(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == day_id)).one().family_name == ""
    assert [a for a, _ in audit_actions(app, day_id)].count("purge_personal_data") == 1


def test_a_candidate_deleted_while_others_edit_and_delete_it(app, draft_day):
    client, at, day_id = draft_day
    with at(jst(2021, 2, 10, 9, 0)) as token:
        with app.app_context():
            candidate_id = db.session().exec(select(OdysseyCandidate.id).where(OdysseyCandidate.exam_day_id == day_id)).one()
        edited = {**CANDIDATE, "given_name": "二子"}
        calls = [send(token, f"/p/odyssey/delete-candidate/{candidate_id}"),
                 lambda c: post(c, token, f"/p/odyssey/candidate/{candidate_id}", edited)] * (RACERS // 2)
        results = concurrently(client, *calls)
    statuses = [status for status, _ in results]
    assert 500 not in statuses, results
    deletes = statuses[0::2]
    assert deletes.count(200) == 1 and all(s in (404, 409) for s in deletes if s != 200), statuses
    for status, html in results:
        if status == 409:
            assert "先に削除されました" in html and "現在の状態" in html, html[:2000]
    assert stored_day(app, day_id)[1] == 0
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "odyssey_candidate",
                                                            AuditEvent.entity_id == candidate_id)).all()
    assert [e.action for e in events].count("delete") == 1
    assert [e.action for e in events].count("update") == sum(1 for s in statuses[1::2] if s in (200, 204))
