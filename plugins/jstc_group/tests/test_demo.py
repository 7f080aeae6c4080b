"""The demo data (``flask seed-demo`` → hook ``provider_demo_data``): a session whose
application deadline is a few weeks ahead and a group of 12 examinees, made through the
plugin's services and visible on the dashboard, calendar and the group's page."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from conftest import seed_demo_and_login
from portal import db
from portal.models import AuditEvent
from portal.rules import JST
from portal.rules.parse import now_jst

from plugins.jstc_group import services
from plugins.jstc_group.models import JstcApplication, JstcSession




def demo_group(app, org_id):
    with app.app_context():
        s = db.session()
        session = s.exec(select(JstcSession).where(JstcSession.organization_id == org_id)).one()
        application = s.exec(select(JstcApplication).where(JstcApplication.organization_id == org_id)).one()
        return session, application, services.examinees(s, application)


def test_demo_session_group_and_examinees(app):
    client, org_id = seed_demo_and_login(app)
    now = now_jst()
    session, application, rows = demo_group(app, org_id)
    assert session.dates().window_state(now) == "open"
    assert now.date() + timedelta(days=7) <= session.application_deadline <= now.date() + timedelta(days=28)
    assert session.exam_date > session.application_deadline
    assert application.session_id == session.id and not application.locked
    assert application.responsible_person and application.venue and application.staff
    counts = services.grade_counts(rows)
    assert len(rows) == 12 and sum(1 for n in counts.values() if n) >= 3
    assert services.upload_refusal(application, session.dates(), now) is None  # ready for the bulk form
    with app.app_context():
        created = db.session().exec(select(AuditEvent).where(AuditEvent.organization_id == org_id,
                                                             AuditEvent.entity == "jstc_group_examinee")).all()
        assert len(created) == 12

    dashboard = client.get("/dashboard?days=20&provider=jstc_group").get_data(as_text=True)
    assert "JST-AP-1" in dashboard and f"{session.name} 一括申込書" in dashboard
    page = client.get(f"/p/jstc_group/groups/{application.id}").get_data(as_text=True)
    assert 'data-group="true"' in page and "10〜20名" in page and '<td data-count="total">12</td>' in page
    assert application.responsible_person in page
    month = client.get(f"/calendar?month={session.application_deadline:%Y-%m}").get_data(as_text=True)
    assert f"{session.name} 一括申込書" in month


@pytest.mark.parametrize("moment", [datetime(2026, 12, 24, 12, 0, tzinfo=JST), datetime(2027, 4, 25, 9, 0, tzinfo=JST)])
def test_demo_deadline_on_a_business_day(app, moment):
    with time_machine.travel(moment, tick=False):
        client, org_id = seed_demo_and_login(app)
        session, _, rows = demo_group(app, org_id)
        assert len(rows) == 12 and session.application_deadline.weekday() < 5
        assert "JST-AP-1" in client.get("/dashboard?days=20&provider=jstc_group").get_data(as_text=True)
