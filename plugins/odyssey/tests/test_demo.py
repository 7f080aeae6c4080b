"""The demo data (``flask seed-demo`` → hook ``provider_demo_data``): the venue's deposit,
a draft exam day with the manual's example application (19,030 yen) and a confirmed one,
made through the plugin's services and visible on the dashboard, calendar and its pages."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from conftest import seed_demo_and_login
from portal import db
from portal.models import AuditEvent
from portal.rules import JST, jst
from portal.rules.parse import now_jst

from plugins.odyssey import services
from plugins.odyssey.models import OdysseyExamDay, OdysseyVenue




def demo_days(app, org_id):
    with app.app_context():
        s = db.session()
        days = s.exec(select(OdysseyExamDay).where(OdysseyExamDay.organization_id == org_id)
                      .order_by(OdysseyExamDay.exam_date)).all()
        return [(d, services.candidates(s, d), services.tests(s, d), services.remittance(s, d)) for d in days]


def test_demo_exam_days_and_venue(app):
    client, org_id = seed_demo_and_login(app)
    today = now_jst().date()
    (draft, draft_people, draft_tests, draft_remit), (confirmed, people, tests, remit) = demo_days(app, org_id)
    assert draft.state == "draft" and today + timedelta(days=14) <= draft.exam_date <= today + timedelta(days=21)
    assert jst(draft.application_deadline) > now_jst()
    assert len(draft_people) == 2
    # The manual's example (3.3.3): (学割)Office Word 2016 8,580 − 1,100 + Excel VBA Basic 13,200 − 1,650.
    assert sorted((t.subject_name, t.price_kind, t.fee, t.commission) for t in draft_tests) == [
        ("Excel VBA Basic", "general", 13200, 1650), ("Office Word 2016", "student", 8580, 1100)]
    assert draft_remit.total == 19030
    assert confirmed.state == "confirmed" and confirmed.confirmed_at is not None and confirmed.exam_date > draft.exam_date
    assert len(people) == 2 and remit.voucher_tests == 1 and remit.total == 11550
    with app.app_context():
        s = db.session()
        venue = s.exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).one()
        assert venue.deposit_balance > 0 and venue.balance_updated_at is not None and venue.contract_start is not None
        changes = s.exec(select(AuditEvent).where(AuditEvent.entity == "odyssey_exam_day",
                                                  AuditEvent.entity_id == confirmed.id,
                                                  AuditEvent.action == "state_change")).all()
        assert [(e.before["state"], e.after["state"], e.after["by"]) for e in changes] == [("draft", "confirmed", "click")]

    dashboard = client.get("/dashboard?days=20&provider=odyssey").get_data(as_text=True)
    assert "ODY-DL-1" in dashboard and "ODY-DL-2" in dashboard
    page = client.get(f"/p/odyssey/day/{draft.id}").get_data(as_text=True)
    assert 'data-remittance="19030"' in page and "Excel VBA Basic" in page and "(学割)Office Word 2016" in page
    assert 'data-state="confirmed"' in client.get(f"/p/odyssey/day/{confirmed.id}").get_data(as_text=True)
    assert f'value="{venue.deposit_balance}"' in client.get("/p/odyssey/venue").get_data(as_text=True)
    month = client.get(f"/calendar?month={draft.exam_date:%Y-%m}").get_data(as_text=True)
    assert f"/p/odyssey/day/{draft.id}" in month


@pytest.mark.parametrize("moment", [datetime(2026, 12, 17, 18, 0, tzinfo=JST), datetime(2027, 4, 22, 9, 0, tzinfo=JST)])
def test_demo_exam_days_avoid_closures(app, moment):
    """Around the year-end closure and Golden Week the exam days move to business days."""
    with time_machine.travel(moment, tick=False):
        client, org_id = seed_demo_and_login(app)
        days = demo_days(app, org_id)
        assert [d.state for d, *_ in days] == ["draft", "confirmed"]
        with app.app_context():
            ctx = services.rule_context(db.session(), org_id)
            assert all(ctx.calendar.is_business_day(d.exam_date) for d, *_ in days)
        assert "ODY-DL-1" in client.get("/dashboard?days=20&provider=odyssey").get_data(as_text=True)
