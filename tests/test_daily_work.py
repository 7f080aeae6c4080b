"""The operator's daily work (issue 13): bulk mark-paid, the readable audit log, deadlines
already closed when booked, ICS alarms and titles, the calendar's today and brands, the
masked refund account checked before the confirmation, success messages, first run."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlmodel import select

from helpers import make_booking, make_candidate, make_session
from portal import db
from portal.models import AuditEvent, Booking, ReminderPreference
from portal.rules import JST


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JST)  # Monday (勤労感謝の日)
EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)  # Saturday: essay upload due Mon 12-07 23:59 (SMP-DL-1)
HX = {"HX-Request": "true"}
GOOD_ACCOUNT = {"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567",
                "holder": "ﾔﾏﾀﾞ ﾀﾛｳ"}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(client, token, url, data, htmx=True):
    return client.post(url, data=data, headers={"X-CSRFToken": token, **(HX if htmx else {})})


def _get(app, model, ident):
    with app.app_context():
        return db.session().get(model, ident)


# --------------------------------------------------------------------------- bulk


def test_bulk_mark_paid_goes_booking_by_booking_with_one_audit_entry_each(frozen, app, logged_in, org_factory):
    client, org_id, user_id, token = logged_in
    session_id = make_session(app, org_id, start=EXAM, capacity=10)
    due = NOW + timedelta(days=3)
    unpaid = [make_booking(app, org_id, session_id, make_candidate(app, org_id, "未払", str(i)), method="convenience_store",
                           paid=False, due=due) for i in range(2)]
    paid = make_booking(app, org_id, session_id, make_candidate(app, org_id, "支払済", "花子"))
    other_org = org_factory(name="他校", email="other@example.jp")[0]
    foreign = make_booking(app, other_org, make_session(app, other_org, start=EXAM), make_candidate(app, other_org),
                           method="convenience_store", paid=False, due=due)
    page = client.get("/providers/sample/bookings").get_data(as_text=True)
    assert page.count('name="booking" value=') == 3 and "data-select-all" in page

    r = _post(client, token, "/providers/sample/bookings/bulk",
              {"action": "paid", "booking": [*map(str, unpaid), str(paid), str(foreign)], "status": "booked"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "2件を入金済みにしました" in html and "1件は処理しませんでした" in html
    assert re.search(rf'data-refused="{paid}">支払済 花子 — [^:]+: 入金済みです', html)
    assert json.loads(r.headers["HX-Trigger"])["portal:toast"]["messages"] == ["2件を入金済みにしました。"]
    assert all(_get(app, Booking, b).paid for b in unpaid)
    assert _get(app, Booking, foreign).paid is False  # another organisation's booking is not touched
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.action == "paid")).all()
    assert sorted(e.entity_id for e in events) == sorted(unpaid) and {e.user_id for e in events} == {user_id}

    again = _post(client, token, "/providers/sample/bookings/bulk", {"action": "paid", "booking": [str(unpaid[0])]})
    assert "入金済みです" in again.get_data(as_text=True) and "件を入金済みにしました" not in again.get_data(as_text=True)
    none = _post(client, token, "/providers/sample/bookings/bulk", {"action": "paid"})
    assert none.status_code == 422 and "予約を選んでください" in none.get_data(as_text=True)


# --------------------------------------------------------------------------- audit


def test_audit_diff_is_field_by_field_with_labels_in_the_users_language(app):
    from portal.audit_view import Vocabulary, changes
    before = {"id": 3, "status": "booked", "paid": False, "payment_method": "pay_easy", "family_name": "山田",
              "cancelled_at": None, "refund_amount": None}
    after = {"id": 3, "status": "refund_pending", "paid": False, "payment_method": "pay_easy", "family_name": "山田",
             "cancelled_at": "2026-11-23T00:30:00+00:00", "refund_amount": 16186}
    with app.test_request_context("/"):
        rows = {c.field: c for c in changes(before, after, Vocabulary())}
        assert set(rows) == {"status", "cancelled_at", "refund_amount"}  # only what changed, no bookkeeping ids
        assert (rows["status"].label, rows["status"].before, rows["status"].after) == ("状態", "予約中", "返金待ち")
        assert rows["cancelled_at"].after == "2026-11-23 09:30" and rows["cancelled_at"].before == "—"  # JST
    with app.test_request_context("/?lang=en"):
        rows = {c.field: c for c in changes(before, after, Vocabulary())}
        assert rows["status"].after == "Refund pending" and rows["refund_amount"].label == "Refund"
        created = changes(None, {"paid": True, "family_name": "山田"}, Vocabulary())
        assert [(c.label, c.after) for c in created] == [("Paid", "Yes"), ("Family name", "山田")]


def test_audit_page_reads_like_prose_with_links_and_raw_json_behind_a_toggle(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="convenience_store",
                              paid=False, due=NOW + timedelta(days=3))
    _post(client, token, f"/bookings/{booking_id}/paid", {})
    page = client.get("/admin/audit?action=paid").get_data(as_text=True)
    row = page[page.index('data-action="paid"'):]
    assert "<strong>入金確認</strong>" in row and f'href="/bookings/{booking_id}"' in row
    assert re.search(r'data-field="paid"><span class="label">入金</span>:\s*<span class="before" translate="no">いいえ</span> → '
                     r'<span class="after" translate="no">はい</span>', row)
    assert "<details><summary>元のデータ(JSON)</summary>" in row
    _post(client, token, "/providers/sample/book", {"session_id": session_id, "family_name": "渡辺",
                                                       "given_name": "健", "payment_method": "credit_card"})
    page = client.get("/admin/audit?entity=candidate").get_data(as_text=True)
    assert re.search(r'<span class="label">姓</span>:\s*<span class="after" translate="no">渡辺</span>', page)
    assert "&#34;family_name&#34;: &#34;渡辺&#34;" in page and "\\u6e21" not in page  # names decoded, raw JSON too
    english = client.get("/admin/audit?action=paid&lang=en").get_data(as_text=True)
    assert "<strong>Payment received</strong>" in english


# --------------------------------------------------------------------------- closed deadlines, ICS, calendar


def _late_booking(app, org_id):
    """Booked on Thursday 12-10 for Saturday 12-12: the essay upload (due Mon 12-07) had passed."""
    with time_machine.travel(datetime(2026, 12, 10, 9, 0, tzinfo=JST), tick=False):
        session_id = make_session(app, org_id, start=EXAM)
        return make_booking(app, org_id, session_id, make_candidate(app, org_id, "直前", "予約"))


def test_a_deadline_past_when_booked_is_closed_and_never_upcoming(app, logged_in):
    client, org_id, _, token = logged_in
    booking_id = _late_booking(app, org_id)
    with time_machine.travel(datetime(2026, 12, 10, 9, 5, tzinfo=JST), tick=False):
        detail = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
        assert re.search(r'data-kind="essay" class="closed-deadline" data-closed>.*?締切済み', detail)
        listing = client.get("/providers/sample/bookings").get_data(as_text=True)
        assert "data-closed" in listing and "締切済み" in listing
        calendar = client.get("/calendar?month=2026-12").get_data(as_text=True)
        assert "直前 予約" not in calendar.split('data-date="2026-12-07"')[1].split("</td>")[0]
        _post(client, token, "/admin/feeds", {})
        with app.app_context():
            from portal.web.feeds import build_calendar
            with app.test_request_context("/"):
                ics = Calendar.from_ical(build_calendar(org_id, "ja", 3))
        uids = {str(e["uid"]) for e in ics.walk("VEVENT")}
        assert f"sample-essay-booking-{booking_id}@exam-portal" not in uids


def test_ics_titles_are_localised_and_carry_an_alarm_from_the_preference(frozen, app, logged_in):
    client, org_id, user_id, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    with app.app_context():
        with db.transaction() as s:
            s.add(ReminderPreference(organization_id=org_id, user_id=user_id, enabled=True, days_ahead=2, language="en"))
    page = _post(client, token, "/admin/feeds", {}).get_data(as_text=True)
    url = re.search(r"http://localhost(/feeds/[^\"<\s]+\.ics)", page).group(1)
    client.post("/logout", headers={"X-CSRFToken": token})
    ics = Calendar.from_ical(client.get(url).data)
    deadlines = [e for e in ics.walk("VEVENT") if "deadline" in [str(c) for c in e["categories"].cats]]
    essay = next(e for e in deadlines if "-essay-" in str(e["uid"]))
    assert str(essay["summary"]).startswith("Essay upload: 山田 太郎")  # the provider's own kind, in its words
    assert "[essay]" not in ics.to_ical().decode()
    [alarm] = essay.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY"
    # deadline Mon 12-07 23:59; 2 business days ahead (its own day counts): Fri 12-04 09:00 JST
    assert alarm["trigger"].dt == datetime(2026, 12, 4, 0, 0, tzinfo=alarm["trigger"].dt.tzinfo)


def test_alarm_moment_skips_weekends_and_holidays():
    from portal.web.feeds import alarm_moment
    deadline = datetime(2026, 11, 24, 23, 59, 59, tzinfo=JST)  # Tue, the day after 勤労感謝の日
    assert alarm_moment(deadline, 1) == datetime(2026, 11, 24, 9, 0, tzinfo=JST)
    assert alarm_moment(deadline, 2) == datetime(2026, 11, 20, 9, 0, tzinfo=JST)  # Fri: Mon 11-23 is a holiday
    new_year = datetime(2027, 1, 4, 23, 59, 59, tzinfo=JST)  # Mon
    assert alarm_moment(new_year, 2) == datetime(2026, 12, 31, 9, 0, tzinfo=JST)
    early = datetime(2026, 11, 24, 8, 0, tzinfo=JST)  # a deadline before 09:00: one hour before it
    assert alarm_moment(early, 1) == datetime(2026, 11, 24, 7, 0, tzinfo=JST)


def test_calendar_marks_today_and_names_each_entrys_brand(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    make_booking(app, org_id, make_session(app, org_id, start=EXAM), make_candidate(app, org_id))
    page = client.get("/calendar?month=2026-11").get_data(as_text=True)
    assert re.search(r'class="[^"]*today[^"]*" data-date="2026-11-23" aria-current="date">\s*<div class="date">23 ?'
                     r'.*?<strong class="today-mark">今日</strong>', page, re.S)
    december = client.get("/calendar?month=2026-12").get_data(as_text=True)
    entry = re.search(r'<div class="deadline" data-provider="sample"[^>]*><span class="brand-tag brand-\d">([^<]+)</span>',
                      december)
    assert entry and entry.group(1).startswith("サンプル検定")
    assert 'aria-current="date"' not in december


# --------------------------------------------------------------------------- refund account


def test_refund_account_is_checked_before_the_confirmation_and_shown_masked_until_refunded(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    booking_id = make_booking(app, org_id, make_session(app, org_id, start=EXAM), make_candidate(app, org_id),
                              method="pay_easy", paid=True, amount=16500)
    detail = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert f'data-validate-url="/bookings/{booking_id}/refund-account/check"' in detail
    bad = _post(client, token, f"/bookings/{booking_id}/refund-account/check", {**GOOD_ACCOUNT, "holder": "ﾔﾏﾀﾞ ｼｮｳｺ"})
    assert bad.status_code == 422 and "小さいカナ" in bad.get_json()["errors"]["holder"]
    assert _post(client, token, f"/bookings/{booking_id}/refund-account/check", GOOD_ACCOUNT).status_code == 204
    assert _get(app, Booking, booking_id).status == "booked"  # checking changes nothing
    _post(client, token, f"/bookings/{booking_id}/cancel", GOOD_ACCOUNT)
    detail = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    shown = re.search(r"<dd data-refund-account>(.*?)</dd>", detail, re.S).group(1)
    assert "****567" in shown and "1234567" not in detail and "ﾔ*******" in shown and "ﾔﾏﾀﾞ" not in detail and "0001" in shown
    listing = client.get("/providers/sample/bookings?status=refund_pending").get_data(as_text=True)
    assert "****567" in listing and "1234567" not in listing
    log = client.get("/admin/audit?action=cancel").get_data(as_text=True)
    assert re.search(r'<span class="label">返金先口座</span>:\s*<span class="after" translate="no">0001 / 123 / 普通 / \*\*\*\*567 / ﾔ\*\*\*\*\*\*\*</span>',
                     log) and "1234567" not in log
    _post(client, token, f"/bookings/{booking_id}/refund-done", {})
    assert "data-refund-account" not in client.get(f"/bookings/{booking_id}").get_data(as_text=True)


# --------------------------------------------------------------------------- messages, first run, page shell


def test_a_success_message_after_each_action(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    candidate_id = make_candidate(app, org_id)
    r = _post(client, token, "/providers/sample/book", {"session_id": session_id, "candidate_id": candidate_id,
                                                            "payment_method": "credit_card"})
    assert r.status_code == 204
    page = client.get(r.headers["HX-Redirect"]).get_data(as_text=True)
    assert re.search(r'<div id="toast"[^>]*><p>予約しました。</p>', page)  # flashed across the redirect
    booking_id = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    second = make_session(app, org_id, start=EXAM + timedelta(days=7))
    r = _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert json.loads(r.headers["HX-Trigger"])["portal:toast"]["messages"] == ["完了しました(予約: 日程変更)。"]
    refused = _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert refused.status_code == 422 and "HX-Trigger" not in refused.headers  # a refusal is no success
    full = _post(client, token, "/admin/providers/sample/closures",
                 {"start_date": "2026-12-24", "label": "冬期休業"}, htmx=False)
    assert full.status_code == 200 and "完了しました(休業日: 作成)。" in full.get_data(as_text=True)


def test_migrate_says_what_it_did_on_a_fresh_database(tmp_path):
    from portal import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "TESTING": True, "SECRET_KEY": "t"})
    first = app.test_cli_runner().invoke(args=["migrate"])
    assert first.exit_code == 0, first.output
    assert re.search(r"applied \d+ migration\(s\):", first.output) and "core tables" in first.output
    assert "reminders and feed owner" in first.output and "no organisation yet" in first.output
    second = app.test_cli_runner().invoke(args=["migrate"])
    assert "no migration applied" in second.output and "core tables" not in second.output
    app.extensions["exam_portal.engine"].dispose()


def test_skip_link_and_favicon(logged_in):
    client = logged_in[0]
    page = client.get("/dashboard").get_data(as_text=True)
    assert page.index('class="skip-link" href="#main"') < page.index('<header') and '<main id="main" tabindex="-1">' in page
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(icon).status_code == 200


def test_a_plugin_names_its_audit_records_and_links_them(make_app, org_factory):
    """Hook portal_audit_labels: a plugin's entity, action and fields read in the user's
    language, with a link to the record."""
    from flask_babel import lazy_gettext as _l
    from conftest import login
    from portal import audit
    from portal.plugins import hookimpl

    class Venue:
        @hookimpl
        def portal_audit_labels(self):
            return {"entities": {"venue_room": _l("会場")}, "actions": {"reserve": _l("予約")},
                    "fields": {"seats": _l("座席数")}, "links": {"venue_room": lambda i: f"/rooms/{i}"}}

    app = make_app(plugins=[Venue()])
    org_id, user_id, email, password = org_factory()
    with app.app_context():
        with db.transaction() as s:
            audit.record(s, org_id, user_id, "reserve", "venue_room", 7, {"seats": 10}, {"seats": 12})
    client = app.test_client()
    login(client, email, password)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert re.search(r'<strong>予約</strong> <a href="/rooms/7">会場 #7</a>', page)
    assert re.search(r'<span class="label">座席数</span>:\s*<span class="before" translate="no">10</span> → <span class="after" translate="no">12</span>', page)
