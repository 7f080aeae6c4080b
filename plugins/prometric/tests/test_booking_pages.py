"""Prometric through the core's booking pages (HTMX UI): seats, stored deadlines (PRM-DL-1), change with
card reauthorisation (PRM-CH-4), cancel with the Zengin refund form (PRM-CA-2), voucher lock, lapse."""
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from functools import partial

from tests import helpers
from tests.helpers import make_booking, make_candidate

make_session = partial(helpers.make_session, provider="prometric")
from portal import db, lifecycle
from portal.models import AuditEvent, Booking, BookingDeadline, ExamSession, RefundAccount
from portal.rules import JST

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JST)
EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)  # Saturday: deadline Tue 12-08 23:59 (PRM-DL-1)
HX = {"HX-Request": "true"}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _get(app, model, ident):
    with app.app_context():
        return db.session().get(model, ident)


def _post(client, token, url, data, htmx=True):
    headers = {"X-CSRFToken": token, **(HX if htmx else {})}
    return client.post(url, data=data, headers=headers)


def test_htmx_gets_the_fragment_and_a_plain_request_the_full_page(logged_in):
    client = logged_in[0]
    full = client.get("/providers/prometric")
    part = client.get("/providers/prometric", headers=HX)
    assert "<html" in full.get_data(as_text=True) and "<html" not in part.get_data(as_text=True)
    assert 'id="provider-panel"' in part.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in part.headers["Vary"]
    restore = client.get("/providers/prometric", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_book_from_the_form_takes_a_seat_and_stores_deadlines(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM, capacity=2)
    r = _post(client, token, "/providers/prometric/book", {
        "session_id": session_id, "family_name": "山田", "given_name": "花子", "payment_method": "credit_card"})
    assert r.status_code == 204, r.get_data(as_text=True)
    assert r.headers["HX-Redirect"].startswith("/bookings/")
    booking_id = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    assert _get(app, ExamSession, session_id).seats_taken == 1
    with app.app_context():
        stored = db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking_id)).all()
    assert {d.kind for d in stored} == {"change", "cancel"}
    assert all(d.at == datetime(2026, 12, 8, 23, 59, tzinfo=JST) and d.rule == "PRM-DL-1" for d in stored)
    assert _get(app, Booking, booking_id).next_deadline_at == datetime(2026, 12, 8, 23, 59, tzinfo=JST)
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "2026-12-08" in page and "PRM-DL-1" in page


def test_a_full_session_refuses_the_booking_with_a_message(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM, capacity=1)
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    r = _post(client, token, "/providers/prometric/book", {
        "session_id": session_id, "family_name": "佐藤", "given_name": "一郎", "payment_method": "credit_card"})
    assert r.status_code == 422 and "満席" in r.get_data(as_text=True)
    with app.app_context():
        assert len(db.session().exec(select(Booking)).all()) == 1  # nothing half-done


def test_bad_form_input_shows_messages_next_to_fields_and_changes_nothing(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    r = _post(client, token, "/providers/prometric/book", {
        "session_id": session_id, "family_name": "", "given_name": "", "payment_method": "credit_card"})
    assert r.status_code == 422 and 'data-field="candidate_id"' in r.get_data(as_text=True)
    r = _post(client, token, "/providers/prometric/book", {
        "session_id": session_id, "family_name": "a", "given_name": "b", "payment_method": "convenience_store"})
    assert r.status_code == 422 and 'data-field="payment_due"' in r.get_data(as_text=True)
    with app.app_context():
        assert db.session().exec(select(Booking)).all() == []
    assert _get(app, ExamSession, session_id).seats_taken == 0


def test_change_moves_the_seat_and_flags_reauthorisation(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    first = make_session(app, org_id, start=EXAM)
    second = make_session(app, org_id, start=EXAM + timedelta(days=7), venue="本校B")
    booking_id = make_booking(app, org_id, first, make_candidate(app, org_id))
    frozen.move_to(NOW + timedelta(days=10))  # within 30 days of the first booking: no re-authorisation
    r = _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert r.status_code == 200, r.get_data(as_text=True)
    booking = _get(app, Booking, booking_id)
    assert booking.session_id == second and not booking.needs_reauthorization
    assert _get(app, ExamSession, first).seats_taken == 0 and _get(app, ExamSession, second).seats_taken == 1
    assert booking.next_deadline_at == datetime(2026, 12, 15, 23, 59, tzinfo=JST)  # Sat 12-19 → Tue 12-15


def test_change_after_30_days_needs_card_reauthorisation(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    exam = datetime(2027, 2, 20, 10, tzinfo=JST)
    first = make_session(app, org_id, start=exam)
    second = make_session(app, org_id, start=exam + timedelta(days=7))
    booking_id = make_booking(app, org_id, first, make_candidate(app, org_id))
    frozen.move_to(NOW + timedelta(days=31))
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "PRM-CH-4" in page
    _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert _get(app, Booking, booking_id).needs_reauthorization


def test_change_and_cancel_refused_after_the_deadline(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    first = make_session(app, org_id, start=EXAM)
    second = make_session(app, org_id, start=EXAM + timedelta(days=7))
    booking_id = make_booking(app, org_id, first, make_candidate(app, org_id))
    frozen.move_to(datetime(2026, 12, 9, 0, 0, 1, tzinfo=JST))
    r = _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert r.status_code == 422 and "PRM-DL-1" in r.get_data(as_text=True)
    r = _post(client, token, f"/bookings/{booking_id}/cancel", {})
    assert r.status_code == 422
    assert _get(app, Booking, booking_id).status == "booked" and _get(app, Booking, booking_id).session_id == first


def test_unpaid_store_booking_cannot_change(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    first = make_session(app, org_id, start=EXAM)
    second = make_session(app, org_id, start=EXAM + timedelta(days=7))
    booking_id = make_booking(app, org_id, first, make_candidate(app, org_id), method="convenience_store",
                              paid=False, due=NOW + timedelta(days=3))
    r = _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second})
    assert r.status_code == 422 and "未入金" in r.get_data(as_text=True)


def test_cancel_paid_store_booking_needs_a_valid_zengin_account(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="pay_easy", paid=True, amount=16500)
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "16,186円" in page  # 16,500 − 314 fee (PRM-CA-2)
    bad = {"bank_code": "12", "branch_code": "abc", "account_type": "ordinary", "account_number": "123", "holder": "ﾔﾏﾀﾞ ｼｮｳｺ"}
    r = _post(client, token, f"/bookings/{booking_id}/cancel", bad)
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for field in ("bank_code", "branch_code", "account_number", "holder"):
        assert f'data-field="{field}"' in body
    assert _get(app, Booking, booking_id).status == "booked"
    assert _get(app, ExamSession, session_id).seats_taken == 1
    good = {"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "1234567",
            "holder": "ﾔﾏﾀﾞ ﾀﾛｳ"}
    r = _post(client, token, f"/bookings/{booking_id}/cancel", good)
    assert r.status_code == 200
    booking = _get(app, Booking, booking_id)
    assert booking.status == "refund_pending" and booking.refund_amount == 16186
    assert _get(app, ExamSession, session_id).seats_taken == 0
    _post(client, token, f"/bookings/{booking_id}/refund-done", {})
    assert _get(app, Booking, booking_id).status == "cancelled"
    with app.app_context():
        assert db.session().exec(select(RefundAccount)).all() == []  # personal data purged after the refund
        actions = [e.action for e in db.session().exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions[-2:] == ["cancel", "refund_done"]


def test_voucher_is_locked_for_24_hours_after_cancel(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="voucher", voucher="V-1")
    _post(client, token, f"/bookings/{booking_id}/cancel", {})
    assert _get(app, Booking, booking_id).voucher_reusable_at == NOW + timedelta(hours=24)
    rebook = {"session_id": session_id, "family_name": "山田", "given_name": "太郎", "payment_method": "voucher",
              "voucher_code": "V-1"}
    r = _post(client, token, "/providers/prometric/book", rebook)
    assert r.status_code == 422 and 'data-field="voucher_code"' in r.get_data(as_text=True)
    frozen.move_to(NOW + timedelta(hours=24, seconds=1))
    r = _post(client, token, "/providers/prometric/book", rebook)
    assert r.status_code == 204


def test_unpaid_store_booking_expires_after_its_due_date(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="convenience_store",
                              paid=False, due=NOW + timedelta(days=2))
    client.get("/providers/prometric/bookings")
    assert _get(app, Booking, booking_id).status == "booked"
    frozen.move_to(NOW + timedelta(days=2, minutes=1))
    page = client.get("/providers/prometric/bookings?status=expired").get_data(as_text=True)
    assert f'data-booking="{booking_id}"' in page
    assert _get(app, Booking, booking_id).status == "expired"
    assert _get(app, ExamSession, session_id).seats_taken == 0


def test_expire_command(frozen, app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="pay_easy",
                              paid=False, due=NOW + timedelta(hours=1))
    frozen.move_to(NOW + timedelta(hours=2))
    result = app.test_cli_runner().invoke(args=["expire-bookings"])
    assert "expired 1" in result.output
    assert _get(app, Booking, booking_id).status == "expired"


def test_list_filters_sort_and_paginate_in_place(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    near = make_session(app, org_id, start=EXAM, capacity=40)
    far = make_session(app, org_id, start=EXAM + timedelta(days=60), capacity=40)
    ids = [make_booking(app, org_id, near if i % 2 else far, make_candidate(app, org_id, given=f"{i:02d}")) for i in range(30)]
    r = client.get("/providers/prometric/bookings?sort=deadline", headers=HX)
    body = r.get_data(as_text=True)
    assert "<html" not in body and body.count("data-booking=") == 25 and 'aria-current="page"' in body
    order = [int(x) for x in re.findall(r'data-booking="(\d+)"', body)]
    assert set(order[:15]) == {i for n, i in enumerate(ids) if n % 2}  # the near exam's deadlines first
    r = client.get("/providers/prometric/bookings?within=20", headers=HX)
    assert r.get_data(as_text=True).count("data-booking=") == 15
    page2 = client.get("/providers/prometric/bookings?sort=deadline&page=2", headers=HX).get_data(as_text=True)
    assert page2.count("data-booking=") == 5


def test_closure_change_recomputes_stored_deadlines(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))
    r = _post(client, token, "/admin/providers/prometric/closures", {"label": "臨時休業", "start_date": "2026-12-08"})
    assert r.status_code == 200
    assert _get(app, Booking, booking_id).next_deadline_at == datetime(2026, 12, 7, 23, 59, tzinfo=JST)
    with app.app_context():
        explanation = db.session().exec(select(BookingDeadline)).first().explanation_ja
        assert "臨時休業" in explanation
        closure_id = [e.entity_id for e in db.session().exec(select(AuditEvent)).all() if e.entity == "closure_day"][0]
    _post(client, token, f"/admin/closures/{closure_id}/delete", {})
    assert _get(app, Booking, booking_id).next_deadline_at == datetime(2026, 12, 8, 23, 59, tzinfo=JST)


def test_calculator_updates_as_a_fragment_with_explanations(logged_in):
    client, _, _, token = logged_in
    r = _post(client, token, "/providers/prometric/calculate", {
        "exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00", "at": "2026-11-23T10:00",
        "first_booked_at": "2026-11-01T10:00", "payment_method": "voucher"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert "2026-12-08" in body and "PRM-CA-1" in body
    r = _post(client, token, "/providers/prometric/calculate", {"exam_start": "garbage", "payment_method": "voucher"})
    assert 'data-field="exam_start"' in r.get_data(as_text=True)


def test_admin_setting_recomputes_deadlines_and_bad_values_change_nothing(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    holiday_exam = datetime(2027, 11, 23, 10, tzinfo=JST)  # Tuesday, 勤労感謝の日
    session_id = make_session(app, org_id, start=holiday_exam)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))
    before = _get(app, Booking, booking_id).next_deadline_at
    r = _post(client, token, "/admin/providers/prometric/settings", {"refund_transfer_fee": "abc"})
    assert r.status_code == 422 and 'data-field="refund_transfer_fee"' in r.get_data(as_text=True)
    assert _get(app, Booking, booking_id).next_deadline_at == before
    r = _post(client, token, "/admin/providers/prometric/settings", {"holiday_exam_extra_day": "on", "refund_transfer_fee": "330"})
    assert r.status_code == 200
    after = _get(app, Booking, booking_id).next_deadline_at
    assert after < before  # one more business day before a holiday exam
    with app.app_context():
        event = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "provider_setting")).one()
        assert event.after["refund_transfer_fee"] == 330 and event.after["holiday_exam_extra_day"] is True


def test_calculator_shows_deadlines_policy_quote_and_retake(logged_in):
    """The generic calculator from Prometric's declared facts: PRM-DL-1 deadlines, the
    change/cancel policy, the catalog-price quote for a number of candidates, the retake rule."""
    client, _, _, token = logged_in
    r = _post(client, token, "/providers/prometric/calculate", {
        "exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00", "at": "2026-11-23T10:00",
        "first_booked_at": "2026-11-01T10:00", "payment_method": "credit_card", "items_count": "2"})
    body = r.get_data(as_text=True)
    assert 'data-kind="change"' in body and "PRM-DL-1" in body
    assert 'data-decision="cancel"' in body
    assert 'data-decision="quote"' in body and re.search(r"data-total>[\d,]+円<", body)
    assert 'data-decision="retake"' in body and "PRM-RT" in body


def test_prometric_refuses_a_locked_voucher_through_the_hook_with_its_rule(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="voucher", voucher="V-1")
    with app.app_context():
        with db.transaction() as s:
            lifecycle.cancel(s, s.get(Booking, booking_id), None, None)
    r = _post(client, token, "/providers/prometric/book", {"session_id": session_id, "family_name": "佐藤", "given_name": "一郎",
                                                              "payment_method": "voucher", "voucher_code": "V-1"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "PRM-CA-1" in body and 'data-field="voucher_code"' in body
