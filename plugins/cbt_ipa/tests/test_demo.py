"""The demo data (``flask seed-demo`` → hook ``provider_demo_data``): FE/SG sessions in the
coming weeks and three bookings made through the core's booking lifecycle, visible on the
dashboard, the month calendar and the core's booking pages."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from conftest import seed_demo_and_login
from portal import db
from portal.models import AuditEvent, Booking, BookingDeadline, Candidate, ExamSession
from portal.rules import JST, jst
from portal.rules.parse import now_jst



def test_demo_sessions_and_bookings(app):
    client, org_id = seed_demo_and_login(app)
    with app.app_context():
        s = db.session()
        today = now_jst().date()
        sessions = s.exec(select(ExamSession).where(ExamSession.organization_id == org_id,
                                                    ExamSession.provider == "cbt_ipa")).all()
        assert {x.exam for x in sessions} == {"FE", "SG"}
        assert all(today < jst(x.start).date() <= today + timedelta(days=40) for x in sessions)
        fe = next(x for x in sessions if x.exam == "FE")
        sg = next(x for x in sessions if x.exam == "SG")
        # The end is computed from the catalog, as on the sessions page.
        assert (fe.end - fe.start, sg.end - sg.start) == (timedelta(minutes=200), timedelta(minutes=120))
        rows = s.exec(select(Booking).where(Booking.organization_id == org_id, Booking.provider == "cbt_ipa")).all()
        assert len(rows) == 3 and all(b.status == "booked" for b in rows)
        candidates = {c.id for c in s.exec(select(Candidate).where(Candidate.organization_id == org_id)).all()}
        assert {b.candidate_id for b in rows} <= candidates
        by_method = {b.payment_method: b for b in rows}
        store = by_method["convenience_store"]
        assert not store.paid and store.payment_due_at is not None and jst(store.payment_due_at) > now_jst()
        voucher = by_method["voucher"]
        issued = voucher.provider_facts["voucher_issued_on"]
        assert voucher.voucher_code and issued < today.isoformat()
        assert by_method["credit_card"].paid
        for b in rows:  # IPA-CH-1 stored as by the booking page, with its audit entries
            deadline = s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == b.id)).one()
            exam_session = s.get(ExamSession, b.session_id)
            assert deadline.rule == "IPA-CH-1" and jst(deadline.at).date() == jst(exam_session.start).date() - timedelta(days=3)
            assert b.next_deadline_at == deadline.at
            actions = {e.action for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "booking",
                                                                         AuditEvent.entity_id == b.id)).all()}
            assert actions == {"book"}
        assert sum(x.seats_taken for x in sessions) == 3

    dashboard = client.get("/dashboard?days=20&provider=cbt_ipa").get_data(as_text=True)
    assert "IPA-CH-1" in dashboard and 'data-provider="cbt_ipa"' in dashboard
    bookings = client.get("/providers/cbt_ipa/bookings").get_data(as_text=True)
    assert bookings.count("data-booking=") == 3
    assert "CBTテストセンター" in client.get("/providers/cbt_ipa/sessions").get_data(as_text=True)
    detail = client.get(f"/bookings/{store.id}").get_data(as_text=True)
    assert "IPA-PAY" in detail
    voucher_page = client.get(f"/bookings/{voucher.id}").get_data(as_text=True)
    assert "バウチャー発行日" in voucher_page and "IPA-CH-2" in voucher_page
    month = client.get(f"/calendar?month={jst(fe.start):%Y-%m}").get_data(as_text=True)
    assert f"FE {fe.venue}" in month


@pytest.mark.parametrize("moment", [datetime(2026, 12, 27, 22, 0, tzinfo=JST), datetime(2027, 4, 28, 9, 0, tzinfo=JST)])
def test_demo_seeds_at_year_end_and_golden_week(app, moment):
    with time_machine.travel(moment, tick=False):
        client, org_id = seed_demo_and_login(app)
        with app.app_context():
            assert len(db.session().exec(select(Booking).where(Booking.organization_id == org_id,
                                                               Booking.provider == "cbt_ipa")).all()) == 3
        assert "IPA-CH-1" in client.get("/dashboard?days=20&provider=cbt_ipa").get_data(as_text=True)


def test_core_links_to_an_ipa_booking_lead_to_the_core_booking_page(app):
    client, org_id = seed_demo_and_login(app)
    with app.app_context():
        booking = db.session().exec(select(Booking).where(Booking.provider == "cbt_ipa")).first()
    page = client.get(f"/candidates/{booking.candidate_id}").get_data(as_text=True)
    assert f'href="/bookings/{booking.id}"' in page
    r = client.get(f"/bookings/{booking.id}")
    assert r.status_code == 200 and "IPA-CH-1" in r.get_data(as_text=True)
    assert client.get(f"/p/cbt_ipa/bookings/{booking.id}").status_code == 404  # the plugin's copy is gone
