"""Odyssey in the core's what-if: exam days' deadlines in the closure and settings previews —
the stored ODY-DL-1 deadline written by the save, and the computed ones (ODY-DL-2 payment,
ODY-LA late addition, ODY-DL-4 self-exam request; hook provider_recompute_computed) shown,
counted and recorded, nothing written — the preview on Odyssey's own catalog page (which
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
from plugins.odyssey.tests.test_workflow import CANDIDATE, create_day, post, venue  # noqa: F401  (venue: a fixture)
from tests.helpers import WRITES, check_preview_equals_save, every_row, statements_of


def _plan_of(body: str) -> str:
    found = re.search(r'data-plan="([0-9a-f]+)"', body)
    return found.group(1) if found else ""


def _moved(body: str) -> int:
    return int(re.search(r'data-moved="(\d+)"', body).group(1))


def test_a_closure_preview_lists_the_exam_days_stored_and_computed_deadlines_and_the_save_matches_it(app, venue):
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        day_id = create_day(client, token, "2021-02-25T10:00")  # ODY-DL-1: 2021-02-19 (02-23 天皇誕生日 skipped)
        with app.app_context():
            assert db.session().get(OdysseyExamDay, day_id).application_deadline.date().isoformat() == "2021-02-19"
        data = {"label": "オデッセイ臨時休業", "start_date": "2021-02-22"}
        shown = post(client, token, "/admin/providers/odyssey/closures/preview", data).get_data(as_text=True)
        assert "2021-02-25 10:00 試験日" in shown and "ODY-DL-1" in shown
        # the stored ODY-DL-1 deadline of a draft, and the computed ODY-DL-2 / ODY-DL-4 ones
        assert f'data-move="odyssey-application-day-{day_id}"' in shown
        assert f'data-move="odyssey-payment-day-{day_id}"' in shown and "ODY-DL-2" in shown  # 02-19 → 02-18
        assert f'data-move="odyssey-self_exam_request-day-{day_id}"' in shown and "ODY-DL-4" in shown  # 02-17 → 02-16
        assert _moved(shown) == 3 and "この変更で期限3件が変わります" in shown and "試験日 1件" in shown
        assert 'data-into-past="0"' in shown and "2021-02-18" in shown and "2021-02-16" in shown
        r = post(client, token, "/admin/providers/odyssey/closures", {**data, "plan": _plan_of(shown)})
        assert r.status_code == 200 and 'data-moved="3"' in r.get_data(as_text=True)  # the saved notice
    with app.app_context():
        s = db.session()
        assert s.get(OdysseyExamDay, day_id).application_deadline == datetime(2021, 2, 18, 23, 59, 59, tzinfo=JST)
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["records_moved"] == {"odyssey_exam_day": 1} and event.after["deadlines_moved"] == 3
        moves = {m.uid: (m.old_at.date().isoformat(), m.new_at.date().isoformat()) for m in s.exec(select(DeadlineMove))}
        assert moves == {f"odyssey-application-day-{day_id}": ("2021-02-19", "2021-02-18"),
                         f"odyssey-payment-day-{day_id}": ("2021-02-19", "2021-02-18"),
                         f"odyssey-self_exam_request-day-{day_id}": ("2021-02-17", "2021-02-16")}


def _confirmed_day(client, token, start):
    day_id = create_day(client, token, start)
    assert post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE).status_code == 200
    assert 'data-state="confirmed"' in post(client, token, f"/p/odyssey/confirm/{day_id}").get_data(as_text=True)
    return day_id


def _due(app, org_id, start, end):
    """The exam days' deadlines the dashboard, calendar, ICS feed and digests show (uid → moment)."""
    from portal.rule_context import org_context
    with app.test_request_context("/"):
        ctx = org_context(db.session(), org_id, "odyssey")
        return {i.uid: i.at for i in app.extensions["exam_portal.providers"].due_items(ctx, org_id, start, end)}


def test_a_confirmed_days_computed_payment_deadline_is_previewed_and_the_save_moves_exactly_that(app, venue):
    """A confirmed day stores no deadline any more: before, its ODY-DL-2 payment deadline was
    missing from the preview although the dashboard moved it after the save."""
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        day_id = _confirmed_day(client, token, "2021-02-26T14:00")  # payment 02-22; late addition 02-26 12:00
        stored_before = _stored_deadline(app, day_id)
        data = {"label": "臨時休業", "start_date": "2021-02-22"}
        shown = post(client, token, "/admin/providers/odyssey/closures/preview", data).get_data(as_text=True)
        assert _moved(shown) == 1 and f'data-move="odyssey-payment-day-{day_id}"' in shown and "試験日 1件" in shown
        row = shown[shown.index(f'data-move="odyssey-payment-day-{day_id}"'):]
        row = row[:row.index("</tr>")]
        assert "2021-02-22(月) 23:59" in row and "2021-02-19(金) 23:59" in row and "ODY-DL-2" in row
        assert f"late_addition-day-{day_id}" not in shown  # 12:00 on the exam day: not moved
        window = (datetime(2021, 2, 1, tzinfo=JST), datetime(2021, 3, 1, tzinfo=JST))
        assert _due(app, org_id, *window)[f"odyssey-payment-day-{day_id}"] == datetime(2021, 2, 22, 23, 59, 59, tzinfo=JST)
        r = post(client, token, "/admin/providers/odyssey/closures", {**data, "plan": _plan_of(shown)})
        assert r.status_code == 200 and 'data-moved="1"' in r.get_data(as_text=True)
    due = _due(app, org_id, *window)
    assert due[f"odyssey-payment-day-{day_id}"] == datetime(2021, 2, 19, 23, 59, 59, tzinfo=JST)  # as previewed
    assert _stored_deadline(app, day_id) == stored_before  # computed: nothing written on the day
    with app.app_context():
        s = db.session()
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["deadlines_moved"] == 1 and event.after["records_moved"] == {"odyssey_exam_day": 1}
        assert [m.uid for m in s.exec(select(DeadlineMove))] == [f"odyssey-payment-day-{day_id}"]


def _stored_deadline(app, day_id):
    with app.app_context():
        return db.session().get(OdysseyExamDay, day_id).application_deadline


def test_the_13_oclock_setting_previews_the_late_addition_deadline_it_moves(app, venue):
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        day_id = _confirmed_day(client, token, "2021-02-26T13:00")  # ODY-LA: 13:00 counts as afternoon → 12:00 that day
        strict = {"late_addition_13_strict": "on"}
        shown = post(client, token, "/admin/providers/odyssey/settings/preview", strict).get_data(as_text=True)
        assert _moved(shown) == 1 and f'data-move="odyssey-late_addition-day-{day_id}"' in shown and "ODY-LA" in shown
        assert "2021-02-26(金) 12:00" in shown and "2021-02-25(木) 12:00" in shown
        r = post(client, token, "/admin/providers/odyssey/settings", {**strict, "plan": _plan_of(shown)})
        assert r.status_code == 200 and 'data-moved="1"' in r.get_data(as_text=True)
        stale = post(client, token, "/admin/providers/odyssey/settings", {"plan": _plan_of(shown)})  # back, with the old plan
        assert stale.status_code == 422 and f'data-move="odyssey-late_addition-day-{day_id}"' in stale.get_data(as_text=True)
    window = (datetime(2021, 2, 1, tzinfo=JST), datetime(2021, 3, 1, tzinfo=JST))
    assert _due(app, org_id, *window)[f"odyssey-late_addition-day-{day_id}"] == datetime(2021, 2, 25, 12, 0, tzinfo=JST)


def test_a_closure_on_the_exam_day_itself_shows_its_computed_deadlines_no_longer_applying(app, venue):
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        day_id = _confirmed_day(client, token, "2021-02-26T14:00")
        shown = post(client, token, "/admin/providers/odyssey/closures/preview",
                     {"label": "臨時休業", "start_date": "2021-02-26"}).get_data(as_text=True)
    assert _moved(shown) == 2 and "期限なし" in shown and "ODY-DL-3" in shown  # payment and late addition
    assert f'data-move="odyssey-payment-day-{day_id}"' in shown and f'data-move="odyssey-late_addition-day-{day_id}"' in shown


def test_a_new_organisation_previews_before_any_odyssey_page_was_opened(app, venue):
    """The preview's read-only transaction reads the shipped catalog (nothing stored yet)
    instead of storing it on first use."""
    client, org_id, at = venue
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        r = post(client, token, "/admin/providers/odyssey/closures/preview", {"label": "臨時休業", "start_date": "2021-02-22"})
    assert r.status_code == 200 and _moved(r.get_data(as_text=True)) == 0


def test_the_preview_reads_as_many_statements_for_one_exam_day_as_for_many(app, venue):
    from conftest import count_statements
    client, org_id, at = venue
    closure = {"label": "臨時休業", "start_date": "2021-02-22"}

    def preview(token):
        shown = []
        count = count_statements(app, lambda: shown.append(post(
            client, token, "/admin/providers/odyssey/closures/preview", closure).get_data(as_text=True)))
        return count, _moved(shown[0])
    with at(datetime(2021, 2, 1, 9, 0, tzinfo=JST)) as token:
        create_day(client, token, "2021-02-24T14:00")
        preview(token)  # the rule context built once for this rules version
        one = preview(token)
        for day in ("2021-02-25", "2021-02-26", "2021-03-01", "2021-03-02"):
            create_day(client, token, f"{day}T14:00")
        five = preview(token)
    assert five[1] > one[1] > 0 and five[0] == one[0], (one, five)


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
