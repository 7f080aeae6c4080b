"""Cross-brand operator pages: dashboard, calendar, candidate planner, ICS, admin, audit."""
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlmodel import select

from helpers import make_booking, make_candidate, make_session
from portal import db
from portal.models import AuditEvent, Attempt, User
from portal.plugins import hookimpl
from portal.rules import JST, AttemptRecord, DueItem, Exam, Msg, ProviderInfo, RetakeDecision, SessionItem

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)  # Tuesday
HX = {"HX-Request": "true"}


class LaterBrand:
    """A provider added later, with records of its own: it must appear everywhere."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="later_brand", name=Msg("後発検定", "Later Exam"), exams=(Exam("L1", "後発1級", duration_minutes=60),),
                            deadline_kinds=("application",))

    @hookimpl
    def provider_due_items(self, ctx, organization_id, start, end):
        at = datetime(2026, 11, 26, 23, 59, 59, tzinfo=JST)
        if not start <= at < end:
            return []
        return [DueItem("later_brand", "application", at, "LB-1", Msg("後発の申込締切", "Later application deadline"),
                        "第3回 後発検定", "/p/later", "later_brand-application-3")]

    @hookimpl
    def provider_sessions(self, ctx, organization_id, start, end):
        s = datetime(2026, 12, 20, 10, tzinfo=JST)
        return [SessionItem("later_brand", "L1", s, s + timedelta(hours=1), "第3回 後発検定", "/p/later", "later_brand-session-3", 5)] \
            if start <= s < end else []

    @hookimpl
    def provider_retake(self, ctx, query):
        earliest = max(a.end for a in query.attempts) + timedelta(days=14)
        return RetakeDecision(query.at >= earliest, earliest, "LB-RT", Msg("14日後から", "from 14 days later"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(make_app):
    return make_app(plugins=[LaterBrand()])


def _post(client, token, url, data):
    return client.post(url, data=data, headers={"X-CSRFToken": token, **HX})


def test_dashboard_groups_every_providers_deadlines_by_day(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    session_id = make_session(app, org_id, start=datetime(2026, 12, 7, 10, tzinfo=JST))  # Mon → essay Mon 11-30 (SMP-DL-1)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))
    page = client.get("/dashboard?days=5").get_data(as_text=True)
    assert 'data-day="2026-11-26"' in page and 'data-day="2026-11-30"' in page
    assert page.index('data-day="2026-11-26"') < page.index('data-day="2026-11-30"')
    assert "LB-1" in page and "SMP-DL-1" in page and f"/bookings/{booking_id}" in page
    # Filters update in place: the fragment only, for one provider or kind.
    part = client.get("/dashboard?days=5&provider=later_brand", headers=HX).get_data(as_text=True)
    assert "<html" not in part and "LB-1" in part and "SMP-DL-1" not in part
    part = client.get("/dashboard?days=5&kind=essay", headers=HX).get_data(as_text=True)
    assert "LB-1" not in part and 'data-kind="essay"' in part and "小論文提出" in part  # the provider's own word
    # 3 business days from Tue 11-24 end on Thu 11-26: Monday's deadline is outside.
    part = client.get("/dashboard?days=3", headers=HX).get_data(as_text=True)
    assert 'data-day="2026-11-26"' in part and 'data-day="2026-11-30"' not in part


def test_remembered_dashboard_rows_follow_every_change(frozen, app, logged_in):
    """Rows are rendered once per deadline and language (portal.web.dashboard.row_html); a
    change to anything a row shows (here the candidate's name, then the language) shows at once."""
    from portal.models import Candidate
    client, org_id, _, _ = logged_in
    session_id = make_session(app, org_id, start=datetime(2026, 12, 7, 10, tzinfo=JST))
    make_booking(app, org_id, session_id, make_candidate(app, org_id, family="佐藤", given="一郎"))
    first = client.get("/dashboard?days=5", headers=HX).get_data(as_text=True)
    assert "佐藤 一郎" in first and "小論文提出" in first
    assert client.get("/dashboard?days=5", headers=HX).get_data(as_text=True) == first  # the remembered rows
    with app.app_context():
        with db.transaction() as s:
            s.exec(select(Candidate)).one().family_name = "鈴木"
    page = client.get("/dashboard?days=5", headers=HX).get_data(as_text=True)
    assert "鈴木 一郎" in page and "佐藤" not in page
    english = client.get("/dashboard?days=5&lang=en", headers=HX).get_data(as_text=True)
    assert "Essay upload" in english and "小論文提出" not in english and "鈴木 一郎" in english


def test_disabled_provider_disappears_from_its_pages(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    r = _post(client, token, "/admin/providers/later_brand/enabled", {"enabled": "0"})
    assert r.status_code == 200 and 'data-provider="later_brand" data-enabled="false"' in r.get_data(as_text=True)
    assert "LB-1" not in client.get("/dashboard?days=5").get_data(as_text=True)
    assert "後発検定" not in client.get("/providers/sample").get_data(as_text=True)
    assert client.get("/providers/later_brand").status_code == 404
    assert "第3回" not in client.get("/calendar?month=2026-12").get_data(as_text=True)
    # The public rules API still answers for it (public rules, no organisation).
    assert "later_brand" in [p["id"] for p in client.get("/api/v1/providers").get_json()["providers"]]
    _post(client, token, "/admin/providers/later_brand/enabled", {"enabled": "1"})
    assert client.get("/providers/later_brand").status_code == 200


def test_month_calendar_shows_sessions_and_deadlines_and_moves_in_place(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    make_booking(app, org_id, make_session(app, org_id, start=datetime(2026, 12, 12, 10, tzinfo=JST)), make_candidate(app, org_id))
    page = client.get("/calendar?month=2026-12").get_data(as_text=True)
    cell = page[page.index('data-date="2026-12-20"'):page.index('data-date="2026-12-21"')]
    assert "第3回 後発検定" in cell
    cell = page[page.index('data-date="2026-12-07"'):page.index('data-date="2026-12-08"')]
    assert "小論文提出" in cell  # SMP-DL-1: 5 business days before Sat 12-12
    part = client.get("/calendar?month=2027-01", headers=HX).get_data(as_text=True)
    assert "<html" not in part and "2027-01" in part
    assert client.get("/calendar?month=garbage").status_code == 200


def test_candidate_planner_uses_each_providers_retake_rules(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    candidate = make_candidate(app, org_id)
    r = _post(client, token, f"/candidates/{candidate}/attempts",
              {"provider": "later_brand", "exam": "L1", "start": "2026-11-20T10:00", "outcome": "failed"})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_data(as_text=True)
    assert "LB-RT" in body and "2026-12-04" in body  # 11-20 11:00 + 14 days
    assert 'data-allowed="false"' in body  # not yet now (11-24) ...
    assert 'data-session-uid="later_brand-session-3"' in body  # ... but the 12-20 session is after the earliest date
    # Bad input: messages next to fields, nothing stored.
    r = _post(client, token, f"/candidates/{candidate}/attempts",
              {"provider": "later_brand", "exam": "NOPE", "start": "2026-11-20T10:00", "outcome": "failed"})
    assert r.status_code == 422 and 'data-field="exam"' in r.get_data(as_text=True)
    r = _post(client, token, f"/candidates/{candidate}/attempts",
              {"provider": "later_brand", "exam": "L1", "start": "2027-01-20T10:00", "outcome": "failed"})
    assert r.status_code == 422 and 'data-field="start"' in r.get_data(as_text=True)
    with app.app_context():
        assert len(db.session().exec(select(Attempt)).all()) == 1


def test_ics_feed_is_private_valid_and_revocable(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    make_booking(app, org_id, make_session(app, org_id, start=datetime(2026, 12, 12, 10, tzinfo=JST)), make_candidate(app, org_id))
    r = _post(client, token, "/admin/feeds", {})
    url = re.search(r"data-feed-url>([^<]+)<", r.get_data(as_text=True)).group(1)
    path = url.split("localhost", 1)[1]
    anonymous = app.test_client()
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal = Calendar.from_ical(feed.data)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert "later_brand-session-3@exam-portal" in events and "later_brand-application-3@exam-portal" in events
    essay = next(e for uid, e in events.items() if uid.startswith("sample-essay-booking"))
    assert essay.decoded("dtstart") == datetime(2026, 12, 7, 23, 59, 59, tzinfo=JST)
    assert "SMP-DL-1" in str(essay["description"])
    assert str(essay["summary"]).startswith("小論文提出: ")  # the provider's label, not the raw key
    assert anonymous.get("/feeds/not-a-token.ics").status_code == 404
    with app.app_context():
        feed_id = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "calendar_feed")).first().entity_id
    _post(client, token, f"/admin/feeds/{feed_id}/revoke", {})
    assert anonymous.get(path).status_code == 404


def test_users_and_roles_with_audit_entries(frozen, app, logged_in):
    client, org_id, admin_id, token = logged_in
    r = _post(client, token, "/admin/users", {"name": "新人", "email": "new@example.jp", "password": "short", "role": "staff"})
    assert r.status_code == 422 and 'data-field="password"' in r.get_data(as_text=True)
    r = _post(client, token, "/admin/users", {"name": "新人", "email": "NEW@example.jp", "password": "long-enough-pw", "role": "staff"})
    assert r.status_code == 200
    with app.app_context():
        user = db.session().exec(select(User).where(User.email == "new@example.jp")).one()
    _post(client, token, f"/admin/users/{user.id}", {"role": "admin", "active": "on"})
    r = _post(client, token, f"/admin/users/{admin_id}", {"role": "staff", "active": "on"})
    assert r.status_code == 422  # nobody removes their own admin rights
    log = client.get("/admin/audit?entity=user").get_data(as_text=True)
    assert log.count('data-entity="user"') == 2
    # read as people read it: the field's label, the role's name before → after
    assert re.search(r'data-field="role"><span class="label">役割</span>:\s*<span class="before" translate="no">担当者</span> → '
                     r'<span class="after" translate="no">管理者</span>', log), log
    assert "&#34;role&#34;: &#34;admin&#34;" in log  # the raw JSON stays behind the toggle
    part = client.get("/admin/audit?action=create", headers=HX).get_data(as_text=True)
    assert "<html" not in part and 'data-action="update"' not in part


def test_lists_paginate_and_empty_states_say_what_to_do(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    empty = client.get("/candidates").get_data(as_text=True)
    assert 'class="empty"' in empty
    for i in range(30):
        make_candidate(app, org_id, given=f"{i:02d}")
    first = client.get("/candidates").get_data(as_text=True)
    assert first.count("data-candidate=") == 25 and "page=2" in first
    second = client.get("/candidates?page=2", headers=HX).get_data(as_text=True)
    assert second.count("data-candidate=") == 5


def test_another_organisations_candidate_and_feed_are_404(frozen, app, client, org_factory):
    from conftest import login
    mine = org_factory("A校", "a@example.jp")
    theirs = org_factory("B校", "b@example.jp")
    their_candidate = make_candidate(app, theirs[0])
    login(client, mine[2], mine[3])
    assert client.get(f"/candidates/{their_candidate}").status_code == 404


class KeptResults:
    """A plugin that records results in its own tables (as a venue workflow does)."""

    @hookimpl
    def provider_attempts(self, ctx, organization_id, candidate_id):
        if ctx.provider.id != "later_brand":
            return []
        s = datetime(2026, 11, 10, 10, tzinfo=JST)
        return [AttemptRecord("L1", s, s + timedelta(hours=1), "failed")]


def test_planner_reads_attempts_a_plugin_keeps_itself(frozen, make_app, org_factory):
    from conftest import login
    app = make_app(plugins=[LaterBrand(), KeptResults()])
    client = app.test_client()
    org_id, _, email, password = org_factory()
    login(client, email, password)
    candidate = make_candidate(app, org_id)
    body = client.get(f"/candidates/{candidate}").get_data(as_text=True)
    assert 'data-provider="later_brand" data-exam="L1"' in body
    assert "2026-11-24" in body and "LB-RT" in body  # 11-10 11:00 + 14 days


def test_every_kind_of_change_is_in_the_audit_log(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    post = lambda url, data=None: _post(client, token, url, data or {})  # noqa: E731
    post("/providers/sample/sessions", {"exam": "S1", "start": "2026-12-12T10:00", "venue": "本校", "capacity": "3"})
    post("/providers/sample/sessions", {"exam": "S1", "start": "2026-12-19T10:00", "venue": "本校", "capacity": "3"})
    with app.app_context():
        from portal.models import Booking, ExamSession
        first, second = [s.id for s in db.session().exec(select(ExamSession).order_by(ExamSession.start)).all()]
    r = post("/providers/sample/book", {"session_id": first, "family_name": "監査", "given_name": "太郎",
                                           "payment_method": "convenience_store", "payment_due": "2026-11-30T23:59"})
    booking_id = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    post(f"/bookings/{booking_id}/paid")
    post(f"/bookings/{booking_id}/change", {"session_id": second})
    post(f"/bookings/{booking_id}/cancel", {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                                            "account_number": "1234567", "holder": "ｶﾝｻ ﾀﾛｳ"})
    post(f"/bookings/{booking_id}/refund-done")
    with app.app_context():
        candidate_id = db.session().get(Booking, booking_id).candidate_id
    post(f"/candidates/{candidate_id}/attempts", {"provider": "sample", "exam": "S1",
                                                   "start": "2026-11-20T10:00", "outcome": "failed"})
    post("/admin/providers/sample/closures", {"label": "臨時", "start_date": "2026-12-01"})
    post("/admin/providers/sample/settings", {"refund_fee": "110"})
    post("/admin/providers/sample/catalog", {"code": "S1", "name": "Sample One", "price": "3000"})
    post("/admin/providers/later_brand/enabled", {"enabled": "0"})
    post("/admin/users", {"name": "監査 花子", "email": "audit@example.jp", "password": "long-enough-pw", "role": "staff"})
    post("/admin/feeds")
    with app.app_context():
        events = db.session().exec(select(AuditEvent)).all()
        closure_id = next(e.entity_id for e in events if e.entity == "closure_day")
        feed_id = next(e.entity_id for e in events if e.entity == "calendar_feed")
    post(f"/admin/closures/{closure_id}/delete")
    post(f"/admin/feeds/{feed_id}/revoke")
    with app.app_context():
        seen = {(e.entity, e.action) for e in db.session().exec(select(AuditEvent)).all()}
        assert all(e.user_id is not None for e in db.session().exec(select(AuditEvent)).all())
    assert seen >= {
        ("exam_session", "create"), ("candidate", "create"), ("booking", "book"), ("booking", "paid"),
        ("booking", "change"), ("booking", "cancel"), ("booking", "refund_done"), ("attempt", "create"),
        ("closure_day", "create"), ("closure_day", "delete"), ("provider_setting", "update"),
        ("catalog_entry", "create"), ("provider", "update"), ("user", "create"), ("calendar_feed", "create"),
        ("calendar_feed", "revoke"),
    }, seen
    page = client.get("/admin/audit?entity=booking").get_data(as_text=True)
    assert page.count('data-entity="booking"') == 5  # book, paid, change, cancel, refund_done


def test_housekeeping_expires_and_purges_personal_data_after_retention(frozen, app, org_factory):
    """`flask housekeeping` (cron): unpaid bookings lapse, candidates are anonymised once
    every exam of theirs is older than the retention period, and running again changes nothing."""
    from portal.models import Booking, Candidate
    org_id = org_factory()[0]
    old = make_candidate(app, org_id, family="古田", given="一郎")
    recent = make_candidate(app, org_id, family="新井", given="花子")
    make_booking(app, org_id, make_session(app, org_id, start=datetime(2026, 12, 12, 10, tzinfo=JST)), recent,
                 method="pay_easy", paid=False, due=NOW + timedelta(days=1))
    with app.app_context():
        db.session().add(Attempt(organization_id=org_id, candidate_id=old, provider="sample", exam="S1",
                                 start=datetime(2025, 6, 1, 10, tzinfo=JST), end=datetime(2025, 6, 1, 11, tzinfo=JST),
                                 outcome="passed"))
        db.session().commit()
    frozen.move_to(NOW + timedelta(days=400))
    out = app.test_cli_runner().invoke(args=["housekeeping"]).output
    assert "bookings expired: 1" in out and "personal data purged: 2" in out
    with app.app_context():
        names = {c.id: c.display_name for c in db.session().exec(select(Candidate)).all()}
        assert "古田" not in names[old] and "新井" not in names[recent]
        assert db.session().exec(select(Booking)).one().status == "expired"
        purge_events = db.session().exec(select(AuditEvent).where(AuditEvent.action == "purge_personal_data")).all()
        assert len(purge_events) == 2 and all("古田" not in str(e.after) for e in purge_events)
    again = app.test_cli_runner().invoke(args=["housekeeping"]).output
    assert "bookings expired: 0" in again and "personal data purged: 0" in again


def test_housekeeping_keeps_candidates_within_retention(frozen, app, org_factory):
    from portal.models import Candidate
    org_id = org_factory()[0]
    cid = make_candidate(app, org_id, family="保持", given="中")
    make_booking(app, org_id, make_session(app, org_id, start=datetime(2026, 12, 12, 10, tzinfo=JST)), cid)
    frozen.move_to(NOW + timedelta(days=300))  # the exam is less than a year ago
    out = app.test_cli_runner().invoke(args=["housekeeping"]).output
    assert "personal data purged: 0" in out
    with app.app_context():
        assert db.session().get(Candidate, cid).family_name == "保持"


def test_the_bookings_list_counts_what_its_filters_keep_on_every_page_and_order(frozen, app, logged_in):
    """The total (N件) counts the rows the filters keep — search, status — whatever the
    order and the page (the count runs without the list's order and columns)."""
    client, org_id, _, _ = logged_in
    for i in range(30):
        session_id = make_session(app, org_id, start=NOW + timedelta(days=10 + i), capacity=2)
        make_booking(app, org_id, session_id, make_candidate(app, org_id, family="山田" if i % 3 == 0 else "佐藤"))

    def total(query: str) -> int:
        html = client.get(f"/providers/sample/bookings{query}", headers=HX).get_data(as_text=True)
        found = re.search(r"(\d+)件", html)
        return int(found.group(1)) if found else 0  # an empty list says so instead

    assert total("") == total("?page=2") == total("?sort=-exam") == total("?sort=booked&page=2") == 30
    assert total("?q=山田") == total("?q=山田&page=1&sort=-exam") == 10
    assert total("?q=佐藤") == 20 and total("?q=鈴木") == 0
    assert total("?status=cancelled") == 0
