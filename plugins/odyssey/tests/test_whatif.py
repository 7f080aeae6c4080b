"""Odyssey in the core's what-if: exam days' deadlines in the closure preview, the stored
ODY-DL-1 deadline written by the save, the preview on Odyssey's own catalog page (which
writes nothing), and preview == save on Odyssey's demo data."""
from __future__ import annotations

import re
from datetime import datetime

import time_machine
from sqlmodel import select

from conftest import csrf_token, login
from portal import db
from portal.models import AuditEvent, DeadlineMove
from portal.rules import JST

from plugins.odyssey import deadlines
from plugins.odyssey.models import OdysseyExamDay
from plugins.odyssey.tests.test_workflow import create_day, post, venue  # noqa: F401  (venue: a fixture)
from tests.helpers import WRITES, check_preview_equals_save, every_row, statements_of


def _plan_of(body: str) -> str:
    found = re.search(r'data-plan="([0-9a-f]+)"', body)
    return found.group(1) if found else ""


def test_a_closure_preview_lists_the_exam_day_and_the_save_moves_its_stored_deadline(app, venue):
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        day_id = create_day(client, token, "2021-02-25T10:00")  # ODY-DL-1: 2021-02-19 (02-23 天皇誕生日 skipped)
        with app.app_context():
            assert db.session().get(OdysseyExamDay, day_id).application_deadline.date().isoformat() == "2021-02-19"
        data = {"label": "オデッセイ臨時休業", "start_date": "2021-02-22"}
        shown = post(client, token, "/admin/providers/odyssey/closures/preview", data).get_data(as_text=True)
        assert "試験日 1件" in shown and "2021-02-25 10:00 試験日" in shown and "ODY-DL-1" in shown
        assert f'data-move="odyssey-application-day-{day_id}"' in shown  # the stored ODY-DL-1 deadline of a draft
        assert 'data-into-past="0"' in shown and "2021-02-18" in shown
        r = post(client, token, "/admin/providers/odyssey/closures", {**data, "plan": _plan_of(shown)})
        assert r.status_code == 200
    with app.app_context():
        s = db.session()
        assert s.get(OdysseyExamDay, day_id).application_deadline == datetime(2021, 2, 18, 23, 59, 59, tzinfo=JST)
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["records_moved"] == {"odyssey_exam_day": 1} and event.after["deadlines_moved"] == 1
        assert [m.uid for m in s.exec(select(DeadlineMove)).all()] == [f"odyssey-application-day-{day_id}"]


def test_the_catalog_page_previews_a_subject_edit_and_saves_it_with_the_plan(app, logged_in):
    client, org_id, _, token = logged_in
    page = client.get("/p/odyssey/catalog").get_data(as_text=True)
    assert 'hx-post="/p/odyssey/catalog/preview"' in page
    form = {"code": "MOS-WORD-2016", "name": "Office Word 2016", "family": "MOS", "price_general": "10,780", "active": "on"}
    shown = post(client, token, "/p/odyssey/catalog/preview", form).get_data(as_text=True)
    assert 'data-moved="0"' in shown and "この変更で変わる期限はありません" in shown  # ODY deadlines do not use prices
    bad = post(client, token, "/p/odyssey/catalog/preview", {**form, "family": "XYZ"}).get_data(as_text=True)
    assert 'data-whatif-incomplete="family"' in bad
    r = post(client, token, "/p/odyssey/catalog", {**form, "plan": _plan_of(shown)})
    assert r.status_code == 200
    r = post(client, token, "/p/odyssey/catalog", {**form, "name": "Word 2016", "plan": ""})  # never previewed:
    assert r.status_code == 200  # it moves nothing, so there is nothing to confirm
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "odyssey_subject")).all()
        assert len(events) == 2 and all(e.after["deadlines_moved"] == 0 for e in events)


def test_staff_cannot_preview_catalog_edits(client, org_factory):
    _, _, email, password = org_factory(role="staff")
    login(client, email, password)
    token = csrf_token(client, "/p/odyssey/catalog")
    assert post(client, token, "/p/odyssey/catalog/preview", {"code": "X", "name": "X", "family": "MOS"}).status_code == 403


def test_the_catalog_preview_writes_nothing_and_issues_no_write_statement(app, logged_in):
    client, _, _, token = logged_in
    client.get("/p/odyssey/catalog")  # the organisation's catalog is set up on the first visit
    before = every_row(app)
    r, statements = statements_of(app, lambda: post(client, token, "/p/odyssey/catalog/preview",
                                                    {"code": "X1", "name": "x", "family": "MOS"}))
    assert r.status_code == 200 and 'data-moved="0"' in r.get_data(as_text=True)
    assert statements and [s for s in statements if WRITES.search(s)] == []
    assert every_row(app) == before


def _exam_day_deadline(s, move):
    return s.get(OdysseyExamDay, move.record_id).application_deadline


def _drafts_follow_the_rules(s, org_id, provider_id):
    """ODY-DL-1 of every draft exam day under the stored rules (the oracle of Odyssey's records)."""
    from portal.bookings import org_context
    from portal.rules import jst
    if provider_id != "odyssey":
        return
    calendar = org_context(s, org_id, provider_id).calendar
    for day in s.exec(select(OdysseyExamDay).where(OdysseyExamDay.organization_id == org_id,
                                                   OdysseyExamDay.state == "draft")).all():
        assert day.application_deadline == deadlines.application_deadline(calendar, jst(day.exam_start).date()).at


def test_the_preview_equals_what_the_save_writes_on_odysseys_demo_data(app):
    """Random closure edits of Odyssey on the demo data: its bookings and its exam days store
    exactly the previewed moments, and those are what ODY-DL-1 says."""
    from portal.testing import seed_demo_and_login
    now = datetime(2026, 11, 24, 9, 0, tzinfo=JST)
    with time_machine.travel(now, tick=False):
        _, org_id = seed_demo_and_login(app)
        seen = check_preview_equals_save(app, org_id, ["odyssey"], now.date(),
                                         stored_at={"odyssey_exam_day": _exam_day_deadline}, oracle=_drafts_follow_the_rules)
    assert seen["moved"] and "odyssey_exam_day" in seen["read"], seen  # exam days' deadlines moved and were read back
