"""Odyssey exam days on the core dashboard, calendar and ICS (provider_due_items / provider_sessions)."""
from datetime import datetime

from icalendar import Calendar

from plugins.odyssey.tests.test_workflow import create_day, post, venue  # noqa: F401 (fixture)
from portal.rules import JST


def test_exam_day_deadlines_and_day_reach_the_cross_brand_pages(venue):
    client, _, at = venue
    with at(datetime(2021, 2, 15, 9, tzinfo=JST)) as token:
        day_id = create_day(client, token, "2021-02-25T10:00")
        page = client.get("/dashboard?days=10&provider=odyssey").get_data(as_text=True)
        # ODY-DL-1/2: 2021-02-25 → 2021-02-19 (02-23 天皇誕生日 skipped), application and payment.
        assert 'data-day="2021-02-19"' in page and "ODY-DL-1" in page and "ODY-DL-2" in page
        assert f"/p/odyssey/day/{day_id}" in page
        calendar = client.get("/calendar?month=2021-02").get_data(as_text=True)
        cell = calendar[calendar.index('data-date="2021-02-25"'):calendar.index('data-date="2021-02-26"')]
        assert "Odyssey" in cell
        r = post(client, token, "/admin/feeds")
        path = r.get_data(as_text=True).split("data-feed-url>")[1].split("<")[0].split("localhost", 1)[1]
        uids = {str(e["uid"]) for e in Calendar.from_ical(client.get(path).data).walk("VEVENT")}
        assert f"odyssey-application-day-{day_id}@exam-portal" in uids and f"odyssey-day-{day_id}@exam-portal" in uids


def test_a_new_closure_day_moves_a_draft_exam_days_deadline(venue, app):
    from portal import db
    from plugins.odyssey.models import OdysseyExamDay
    client, _, at = venue
    with at(datetime(2021, 3, 1, 9, tzinfo=JST)) as token:
        day_id = create_day(client, token, "2021-03-25T10:00")  # ODY-DL-1: 2021-03-22
        with app.app_context():
            assert db.session().get(OdysseyExamDay, day_id).application_deadline.date().isoformat() == "2021-03-22"
        r = post(client, token, "/admin/providers/odyssey/closures", {"label": "サーバーメンテナンス", "start_date": "2021-03-22"})
        assert r.status_code == 200
        with app.app_context():
            assert db.session().get(OdysseyExamDay, day_id).application_deadline.date().isoformat() == "2021-03-19"
        page = client.get("/admin/providers/odyssey/catalog").get_data(as_text=True)
        assert "/p/odyssey/catalog" in page and "Office Word 2016" in page


def test_housekeeping_advances_states_and_purges_after_a_month(venue, app):
    import time_machine
    from portal import db
    from plugins.odyssey.models import OdysseyExamDay
    client, _, at = venue
    with at(datetime(2021, 2, 15, 9, tzinfo=JST)) as token:
        day_id = create_day(client, token, "2021-02-25T10:00")
    with time_machine.travel(datetime(2021, 3, 26, 9, tzinfo=JST), tick=False):
        out = app.test_cli_runner().invoke(args=["housekeeping"]).output
    assert "odyssey: exam days changed state: 1" in out  # never confirmed → expired (ODY-ST)
    assert "odyssey: exam days purged of personal data (ODY-PII): 1" in out  # 02-25 + 1 month < 03-26
    with app.app_context():
        day = db.session().get(OdysseyExamDay, day_id)
        assert day.state == "expired" and day.purged_at is not None
