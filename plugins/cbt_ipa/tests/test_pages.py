"""IPA through the core's pages: sessions, booking with the session picker (the IPA rules
answer through hook provider_booking_decision), changes, outcomes; the plugin's exam-day
calculators."""
import re
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from portal import db
from portal.models import Attempt, AuditEvent, Booking, BookingDeadline, Candidate, ExamSession
from portal.testing import csv_rows

from plugins.cbt_ipa.tests.helpers import jst

NOW = jst(2026, 4, 1, 9)
HX = {"HX-Request": "true"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ipa(clock, app, logged_in):
    client, org_id, user_id, token = logged_in

    class Portal:
        def __init__(self):
            self.client, self.org_id, self.token = client, org_id, token

        def session(self, start, exam="FE", venue="東京会場", capacity=5, org=None):
            with app.app_context():
                with db.transaction() as s:
                    row = ExamSession(organization_id=org or org_id, provider="cbt_ipa", exam=exam, venue=venue,
                                      start=start, end=start + timedelta(minutes=200 if exam == "FE" else 120),
                                      capacity=capacity)
                    s.add(row)
                    s.flush()
                    return row.id

        def candidate(self, org=None):
            with app.app_context():
                with db.transaction() as s:
                    row = Candidate(organization_id=org or org_id, family_name="山田", given_name="太郎")
                    s.add(row)
                    s.flush()
                    return row.id

        def attempt(self, candidate_id, start, outcome, exam="FE"):
            with app.app_context():
                with db.transaction() as s:
                    s.add(Attempt(organization_id=org_id, candidate_id=candidate_id, provider="cbt_ipa", exam=exam,
                                  start=start, end=start + timedelta(minutes=200), outcome=outcome))

        def book(self, session_id, candidate_id, **form):
            data = {"csrf_token": token, "session_id": session_id, "candidate_id": candidate_id, "exam": "FE",
                    "payment_method": "credit_card", **form}
            return client.post("/providers/cbt_ipa/book", data=data, headers=HX)

        def post(self, url, **form):
            return client.post(url, data={"csrf_token": token, **form}, headers=HX)

        def query(self, model, *where):
            with app.app_context():
                return db.session().exec(select(model).where(*where)).all()

    return Portal()


def test_panel_links_to_the_core_booking_pages_and_the_exam_day_calculators(ipa):
    page = ipa.client.get("/providers/cbt_ipa").get_data(as_text=True)
    assert 'data-panel="cbt_ipa"' in page and "/providers/cbt_ipa/book" in page and "/p/cbt_ipa/exam-day" in page
    for gone in ("/p/cbt_ipa/book", "/p/cbt_ipa/bookings", "/p/cbt_ipa/sessions"):
        assert ipa.client.get(gone).status_code == 404  # the plugin's copies of the core pages are gone


def test_session_end_is_computed_from_the_catalog(ipa):
    r = ipa.client.post("/providers/cbt_ipa/sessions", headers=HX, data={
        "csrf_token": ipa.token, "exam": "FE", "start": "2026-04-20T10:00", "venue": "大阪会場", "capacity": "3"})
    assert r.status_code == 200
    [row] = ipa.query(ExamSession, ExamSession.provider == "cbt_ipa")
    assert row.end - row.start == timedelta(minutes=200)


def test_bad_session_input_changes_nothing(ipa):
    r = ipa.client.post("/providers/cbt_ipa/sessions", headers=HX, data={
        "csrf_token": ipa.token, "exam": "FE", "start": "2026-04-20T10:00", "venue": "大阪会場", "capacity": "abc"})
    assert r.status_code == 422 and "半角数字" in r.get_data(as_text=True)
    assert ipa.query(ExamSession, ExamSession.provider == "cbt_ipa") == []


def test_book_stores_the_change_deadline_and_ipa_facts(ipa):
    sid, cid = ipa.session(jst(2026, 4, 20, 10)), ipa.candidate()
    r = ipa.book(sid, cid, exemption_valid_until="2026-09-30")
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/bookings/")
    [booking] = ipa.query(Booking, Booking.provider == "cbt_ipa")
    [deadline] = ipa.query(BookingDeadline, BookingDeadline.booking_id == booking.id)
    assert deadline.kind == "change" and deadline.at == jst(2026, 4, 17, 23, 59, 59) and deadline.rule == "IPA-CH-1"
    assert booking.provider_facts == {"exemption_valid_until": "2026-09-30"}
    page = ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "2026-09-30" in page and "IPA-CH-3" in page and "IPA-CA" in page


def test_picker_shows_why_dates_are_not_allowed(ipa):
    cid = ipa.candidate()
    ipa.attempt(cid, jst(2026, 3, 10, 10), "failed")  # retake from 2026-04-10 (IPA-RT-2)
    early, full, ok, soon = (ipa.session(jst(2026, 4, 9, 10)), ipa.session(jst(2026, 4, 15, 10), capacity=0),
                             ipa.session(jst(2026, 4, 10, 10)), ipa.session(jst(2026, 4, 2, 15)))
    html = ipa.client.get(f"/providers/cbt_ipa/book/sessions?exam=FE&payment_method=credit_card&candidate_id={cid}",
                          headers=HX).get_data(as_text=True)
    assert html.startswith('<div id="picker"')  # the partial, swapped in place
    def item(sid):
        start = html.index(f'data-session="{sid}"')
        return html[start:html.index("</li>", start)]
    assert 'data-allowed="false"' in item(early) and "再受験日" in item(early)
    assert 'data-allowed="false"' in item(full) and "空席" in item(full)
    assert 'data-allowed="true"' in item(ok)
    assert 'data-allowed="false"' in item(soon) and "再受験日" in item(soon)


def test_booking_before_the_retake_date_is_refused(ipa):
    cid = ipa.candidate()
    ipa.attempt(cid, jst(2026, 3, 10, 10), "passed")
    r = ipa.book(ipa.session(jst(2026, 4, 9, 10)), cid)
    assert r.status_code == 422 and "IPA-RT-2" in r.get_data(as_text=True)
    assert ipa.query(Booking) == []


def test_absence_does_not_block(ipa):
    cid = ipa.candidate()
    ipa.attempt(cid, jst(2026, 3, 30, 10), "absent")
    assert ipa.book(ipa.session(jst(2026, 4, 9, 10)), cid).status_code == 204


def test_open_application_blocks_a_new_one_until_its_end(ipa):
    cid = ipa.candidate()
    assert ipa.book(ipa.session(jst(2026, 4, 20, 10)), cid).status_code == 204
    r = ipa.book(ipa.session(jst(2026, 6, 1, 10)), cid)
    assert r.status_code == 422 and "IPA-RT-1" in r.get_data(as_text=True)


def test_short_notice_booking_is_allowed_but_never_changes(ipa):
    cid = ipa.candidate()
    sid = ipa.session(jst(2026, 4, 3, 10))
    html = ipa.client.get("/providers/cbt_ipa/book/sessions?exam=FE&payment_method=credit_card", headers=HX).get_data(as_text=True)
    assert "申込後は一切変更できません" in html
    assert ipa.book(sid, cid).status_code == 204
    [booking] = ipa.query(Booking)
    page = ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "2日前以降" in page and 'data-decision="change"' in page


def test_change_moves_the_booking_and_the_deadline(ipa):
    cid = ipa.candidate()
    ipa.book(ipa.session(jst(2026, 4, 20, 10)), cid)
    target = ipa.session(jst(2026, 5, 12, 10), venue="大阪会場", capacity=1)
    [booking] = ipa.query(Booking)
    r = ipa.post(f"/bookings/{booking.id}/change", session_id=target)
    assert r.status_code == 200, r.get_data(as_text=True)
    [booking] = ipa.query(Booking)
    assert booking.session_id == target
    [deadline] = ipa.query(BookingDeadline, BookingDeadline.booking_id == booking.id)
    assert deadline.at == jst(2026, 5, 9, 23, 59, 59)
    [moved] = ipa.query(ExamSession, ExamSession.id == target)
    assert moved.seats_taken == 1
    assert [e.action for e in ipa.query(AuditEvent, AuditEvent.entity_id == booking.id)][-1] == "change"


def test_change_inside_the_lock_is_refused_with_the_reason(ipa, clock):
    cid = ipa.candidate()
    ipa.book(ipa.session(jst(2026, 4, 10, 10)), cid)
    target = ipa.session(jst(2026, 5, 12, 10))
    [booking] = ipa.query(Booking)
    clock.move_to(jst(2026, 4, 8, 0, 0, 1))  # D-2
    page = ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "変更期限" in page and 'class="no" data-decision="change"' in page
    r = ipa.post(f"/bookings/{booking.id}/change", session_id=target)
    assert r.status_code == 422 and "IPA-CH-1" in r.get_data(as_text=True)
    assert ipa.query(Booking)[0].session_id != target


def test_change_past_the_last_selectable_date_is_refused(ipa):
    cid = ipa.candidate()
    ipa.book(ipa.session(jst(2026, 4, 20, 10)), cid, exemption_valid_until="2026-06-30")
    late = ipa.session(jst(2026, 7, 1, 10))
    [booking] = ipa.query(Booking)
    html = ipa.client.get(f"/bookings/{booking.id}", headers=HX).get_data(as_text=True)
    item = html[html.index(f'data-session="{late}"'):]
    assert 'data-allowed="false"' in item[:200] and "選択できる最後の試験日" in item and "IPA-CH-3" in item
    r = ipa.post(f"/bookings/{booking.id}/change", session_id=late)
    assert r.status_code == 422 and "IPA-CH-3" in r.get_data(as_text=True)


def test_voucher_booking_needs_issue_date_and_an_unexpired_voucher(ipa):
    cid, sid = ipa.candidate(), ipa.session(jst(2026, 4, 20, 10))
    r = ipa.book(sid, cid, payment_method="voucher", voucher_code="V-1")
    assert r.status_code == 422 and 'data-field="voucher_issued_on"' in r.get_data(as_text=True)
    r = ipa.book(sid, cid, payment_method="voucher", voucher_code="V-1", voucher_issued_on="2025-06-01",
                 voucher_expires_on="2026-03-31")
    assert r.status_code == 422 and "IPA-PAY" in r.get_data(as_text=True)
    assert ipa.book(sid, cid, payment_method="voucher", voucher_code="V-1", voucher_issued_on="2025-06-01").status_code == 204
    [booking] = ipa.query(Booking)
    page = ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "2026-06-01" in page and "バウチャー発行日" in page  # last selectable = issue + 1 year


def test_unpaid_convenience_store_booking_is_voided_after_due(ipa, clock):
    cid = ipa.candidate()
    r = ipa.book(ipa.session(jst(2026, 4, 20, 10)), cid, payment_method="convenience_store",
                 payment_due="2026-04-03T23:59")
    assert r.status_code == 204
    clock.move_to(jst(2026, 4, 4, 0, 1))
    ipa.client.get("/providers/cbt_ipa/bookings")
    [booking] = ipa.query(Booking)
    assert booking.status == "expired"


def test_record_outcome_then_retake_wait_applies(ipa, clock):
    cid = ipa.candidate()
    ipa.book(ipa.session(jst(2026, 4, 2, 10)), cid)
    [booking] = ipa.query(Booking)
    r = ipa.post(f"/bookings/{booking.id}/outcome", outcome="failed")
    assert r.status_code == 422  # not started yet
    clock.move_to(jst(2026, 4, 2, 14))
    assert 'id="outcome"' in ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    r = ipa.post(f"/bookings/{booking.id}/outcome", outcome="failed")
    assert r.status_code == 200
    [attempt] = ipa.query(Attempt)
    assert attempt.outcome == "failed" and attempt.booking_id == booking.id
    assert ipa.query(Booking)[0].status == "attended"
    r = ipa.book(ipa.session(jst(2026, 5, 2, 10)), cid)
    assert r.status_code == 422 and "2026-05-03" in r.get_data(as_text=True)


def test_another_organisations_booking_is_404(ipa, app, org_factory):
    other_org, *_ = org_factory(name="他校", email="other@example.jp")
    sid = ipa.session(jst(2026, 4, 20, 10), org=other_org)
    r = ipa.book(sid, ipa.candidate())
    assert r.status_code == 404
    assert ipa.client.get("/bookings/999999").status_code == 404


def test_late_arrival_calculator(ipa):
    r = ipa.client.post("/p/cbt_ipa/exam-day/late", headers=HX, data={
        "csrf_token": ipa.token, "exam": "FE", "exam_start": "2026-04-01T10:00", "arrived_at": "2026-04-01T11:21"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-admitted="false"' in html and "IPA-DAY-1" in html
    r = ipa.client.post("/p/cbt_ipa/exam-day/late", headers=HX, data={
        "csrf_token": ipa.token, "exam": "FE", "exam_start": "2026-04-01T10:00", "arrived_at": ""})
    assert r.status_code == 422 and "arrived_at" in r.get_data(as_text=True)


def test_equipment_failure_calculator(ipa):
    r = ipa.client.post("/p/cbt_ipa/exam-day/failure", headers=HX, data={
        "csrf_token": ipa.token, "confirmed_at": "2026-04-01T10:30", "resumed_at": "2026-04-01T11:15"})
    html = r.get_data(as_text=True)
    assert 'data-outcome="transfer"' in html and "2027-04-01" in html


def test_rule_calculator_on_the_brand_page(ipa):
    r = ipa.client.post("/providers/cbt_ipa/calculate", headers=HX, data={
        "csrf_token": ipa.token, "exam": "FE", "exam_start": "2026-04-20T10:00", "at": "2026-04-01T09:00",
        "first_booked_at": "2026-03-30T12:00", "payment_method": "credit_card", "paid": "on",
        "exemption_valid_until": "2026-06-30"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "IPA-CH-3" in html and "2026-06-30" in html and "IPA-CA" in html


def test_dashboard_hooks_list_ipa_deadlines_and_sessions(ipa, app):
    from portal.bookings import providers
    cid, sid = ipa.candidate(), ipa.session(jst(2026, 4, 20, 10))
    ipa.book(sid, cid)
    with app.test_request_context():
        ctx = providers().default_context("cbt_ipa")
        [due] = providers().due_items(ctx, ipa.org_id, jst(2026, 4, 1), jst(2026, 5, 1))
        assert due.kind == "change" and due.at == jst(2026, 4, 17, 23, 59, 59) and due.url.startswith("/bookings/")
        [session] = providers().sessions(ctx, ipa.org_id, jst(2026, 4, 1), jst(2026, 5, 1))
        assert session.end == jst(2026, 4, 20, 13, 20) and session.url.startswith("/providers/cbt_ipa/book")
    page = ipa.client.get(session.url).get_data(as_text=True)
    assert f'value="{sid}"  checked' in page or f'value="{sid}" checked' in page


def test_an_exam_over_without_an_outcome_counts_as_sat_until_an_absence_is_recorded(ipa, app, clock):
    """Housekeeping moves a booking whose exam ended to exam_over; IPA-RT-2 treats it as
    sat, a recorded absence lifts the wait."""
    cid = ipa.candidate()
    assert ipa.book(ipa.session(jst(2026, 4, 2, 10)), cid).status_code == 204
    later = ipa.session(jst(2026, 4, 20, 10))
    clock.move_to(jst(2026, 4, 3, 9))
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0 and "bookings whose exam is over: 1" in result.output
    [booking] = ipa.query(Booking)
    assert booking.status == "exam_over"
    r = ipa.book(later, cid)
    assert r.status_code == 422 and "IPA-RT-2" in r.get_data(as_text=True)
    assert ipa.post(f"/bookings/{booking.id}/outcome", outcome="absent").status_code == 200
    assert ipa.query(Booking, Booking.id == booking.id)[0].status == "absent"
    assert ipa.book(later, cid).status_code == 204


def test_every_ipa_refusal_names_its_rule_on_the_generic_form(ipa):
    """IPA-RT-1, IPA-RT-2, IPA-CH-2, IPA-CH-3 and IPA-PAY refusals come through the hook."""
    cid = ipa.candidate()
    ipa.attempt(cid, jst(2026, 3, 20, 10), "failed")
    cases = [
        (ipa.session(jst(2026, 4, 15, 10)), {}, "IPA-RT-2"),
        (ipa.session(jst(2027, 4, 2, 10)), {}, "IPA-CH-2"),
        (ipa.session(jst(2026, 7, 1, 10)), {"exemption_valid_until": "2026-06-30"}, "IPA-CH-3"),
        (ipa.session(jst(2026, 5, 1, 10)), {"payment_method": "voucher", "voucher_code": "V-9",
                                            "voucher_issued_on": "2025-05-01", "voucher_expires_on": "2026-03-31"},
         "IPA-PAY"),
    ]
    for sid, form, rule in cases:
        r = ipa.book(sid, cid, **form)
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and rule in html and 'data-field="session_id"' in html, rule
    assert ipa.query(Booking) == []


def test_a_change_deadline_past_at_booking_is_closed_and_never_upcoming(ipa, app):
    """Issue 13's case: booked Wed 04-01 for Fri 04-03, the change deadline had passed. The
    booking page says "closed", it is not the next deadline, and the calendar and the ICS
    feed leave it out."""
    cid = ipa.candidate()
    sid = ipa.session(jst(2026, 4, 3, 10))
    assert ipa.book(sid, cid).status_code == 204
    [booking] = ipa.query(Booking)
    closed = [d for d in ipa.query(BookingDeadline, BookingDeadline.booking_id == booking.id) if d.at < booking.booked_at]
    assert closed, "the short-notice booking has a deadline already past"
    assert booking.next_deadline_at is None or booking.next_deadline_at >= booking.booked_at
    page = ipa.client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    for d in closed:
        assert re.search(rf'data-kind="{d.kind}" class="closed-deadline" data-closed>.*?締切済み', page)
    calendar = ipa.client.get("/calendar?month=2026-03").get_data(as_text=True) + \
        ipa.client.get("/calendar?month=2026-04").get_data(as_text=True)
    for d in closed:
        day = d.at.date().isoformat()
        if f'data-date="{day}"' in calendar:
            cell = calendar.split(f'data-date="{day}"')[1].split("</td>")[0]
            assert f"/bookings/{booking.id}" not in cell
    with app.test_request_context("/"):
        from portal.web.feeds import build_calendar
        feed = build_calendar(ipa.org_id, "ja", 1)
    for d in closed:
        assert f"-{d.kind}-booking-{booking.id}".encode() not in feed


def test_the_audit_log_names_ipa_facts_in_english(app, logged_in):
    """Audit rows written before IPA booked through the core pages carry the action
    ``ipa_facts``: its label is translated in the plugin's own domain."""
    from portal import audit
    client, org_id, user_id, _ = logged_in
    with app.app_context():
        with db.transaction() as s:
            audit.record(s, org_id, user_id, "ipa_facts", "booking", 1, None, {"exemption_valid_until": "2026-09-30"})
    page = client.get("/admin/audit?lang=en").get_data(as_text=True)
    log = page[page.index('<div id="audit"'):]
    assert "<strong>IPA candidate facts recorded</strong>" in log and "IPA受験情報の記録" not in log
    assert [r[2] for r in csv_rows(client.get("/admin/audit/export.csv?lang=en"))[1:]] == ["IPA candidate facts recorded"]
    assert "<strong>IPA受験情報の記録</strong>" in client.get("/admin/audit?lang=ja").get_data(as_text=True)
