"""Deadlines a provider computes instead of storing (hook provider_recompute_computed): a
closure edit that moves one is previewed and counted like a stored one, the save checks it
as part of the plan, writes nothing for it, counts it in the audit entry, and the next
reminder digest marks it as changed."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from conftest import csrf_token, login
from portal import db
from portal.models import AuditEvent, DeadlineMove
from portal.plugins import hookimpl
from portal.recompute import DeadlineChange, PlanRecord
from portal.rules import JST, DueItem, Exam, Msg, ProviderInfo, end_of_day
from test_reminders import PORTAL_URL, _housekeeping, _prefer, inbox  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)  # Tuesday
HX = {"HX-Request": "true"}


class Computing:
    """A provider whose one record (session 7, on Fri 2026-12-04) has a report deadline 3
    business days before, computed whenever it is shown: nothing stores it."""

    SESSION_DAY = date(2026, 12, 4)
    SOURCE = "computing_session"
    applied: list = []

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="computing", name=Msg("計算型検定", "Computing exam"), exams=(Exam("C1", "計算1級"),),
                            deadline_kinds=("report",))

    def report(self, ctx) -> tuple[datetime, Msg]:
        shift = ctx.calendar.business_days_before(self.SESSION_DAY, 3)
        return end_of_day(shift.day), Msg(f"3営業日前({shift.skipped_text('ja')})", f"3 business days before "
                                                                                    f"({shift.skipped_text('en')})")

    @hookimpl
    def provider_due_items(self, ctx, organization_id, start, end):
        at, why = self.report(ctx)
        return [DueItem("computing", "report", at, "CMP-1", why, "第7回", "/p/computing/7", "computing-report-session-7")]

    @hookimpl
    def provider_recompute_computed(self, ctx, organization_id, current):
        (old, _), (new, why) = self.report(current), self.report(ctx)
        return [DeadlineChange(self.SOURCE, (7,), "report", old, new, "CMP-1", why)]  # the core drops it if it stays

    @hookimpl
    def provider_recompute_apply(self, ctx, organization_id, changes):
        Computing.applied.extend(changes)
        return 0

    @hookimpl
    def provider_recompute_records(self, ctx, organization_id, records):
        return [PlanRecord(self.SOURCE, record, Msg("回", "session"), "第7回", "C1", "/p/computing/7",
                           "computing-{kind}-session-7") for source, record in records if source == self.SOURCE]


@pytest.fixture
def app(make_app, inbox):  # noqa: F811  (the SMTP inbox of test_reminders)
    Computing.applied = []
    return make_app(plugins=[Computing()], MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, MAIL_USE_TLS=False,
                    PORTAL_URL=PORTAL_URL)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(client, token, url, data):
    return client.post(url, data=data, headers={**HX, "X-CSRFToken": token})


def test_a_computed_deadline_is_previewed_saved_as_shown_and_marked_in_the_next_digest(app, inbox, org_factory, clock):
    org_id, user_id, email, password = org_factory()
    client = app.test_client()
    login(client, email, password)
    token = csrf_token(client)
    _prefer(app, org_id, user_id)
    _housekeeping(app)  # a digest before the edit
    assert "【変更】" not in inbox.messages[0].get_content()

    clock.shift(timedelta(hours=1))
    url = "/admin/providers/computing/closures"
    unmoved = _post(client, token, f"{url}/preview", {"label": "臨時休業", "start_date": "2026-12-07"}).get_data(as_text=True)
    assert 'data-moved="0"' in unmoved and "この変更で変わる期限はありません" in unmoved  # after the session: no move
    data = {"label": "臨時休業", "start_date": "2026-12-02"}
    shown = _post(client, token, f"{url}/preview", data).get_data(as_text=True)
    assert 'data-moved="1"' in shown and "回 1件" in shown and 'data-move="computing-report-session-7"' in shown
    assert "2026-12-01" in shown and "2026-11-30" in shown and "CMP-1" in shown
    saved = _post(client, token, url, {**data, "plan": re.search(r'data-plan="([0-9a-f]+)"', shown).group(1)})
    assert saved.status_code == 200 and 'data-moved="1"' in saved.get_data(as_text=True)
    assert Computing.applied == []  # nothing to write: never handed to provider_recompute_apply
    with app.app_context():
        s = db.session()
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
        assert event.after["deadlines_moved"] == 1 and event.after["records_moved"] == {Computing.SOURCE: 1}
        [move] = s.exec(select(DeadlineMove)).all()
        assert (move.uid, move.old_at.date(), move.new_at.date()) == ("computing-report-session-7", date(2026, 12, 1),
                                                                       date(2026, 11, 30))

    clock.shift(timedelta(days=1))
    _housekeeping(app)
    body = inbox.messages[1].get_content()
    assert "【変更】2026-12-01(火) 23:59 → 2026-11-30(月) 23:59(休業日・設定・試験カタログの変更による。規則: CMP-1)" in body


def test_a_save_whose_computed_deadlines_changed_since_the_preview_shows_the_new_plan(app, org_factory, clock):
    """The fingerprint covers computed deadlines: another closure saved meanwhile moves the
    report again, so the first admin's save is refused with the new preview."""
    org_id, user_id, email, password = org_factory()
    client = app.test_client()
    login(client, email, password)
    token = csrf_token(client)
    url = "/admin/providers/computing/closures"
    first = {"label": "臨時休業", "start_date": "2026-12-02"}
    shown = _post(client, token, f"{url}/preview", first).get_data(as_text=True)
    other = {"label": "別の休業", "start_date": "2026-12-03"}
    plan = _post(client, token, f"{url}/preview", other).get_data(as_text=True)
    assert _post(client, token, url, {**other, "plan": re.search(r'data-plan="([0-9a-f]+)"', plan).group(1)}).status_code == 200
    stale = _post(client, token, url, {**first, "plan": re.search(r'data-plan="([0-9a-f]+)"', shown).group(1)})
    body = stale.get_data(as_text=True)
    assert stale.status_code == 422 and 'data-move="computing-report-session-7"' in body
    assert "2026-11-30" in body and "2026-11-27" in body  # now from 11-30 (after 12-03 closed) to 11-27
    with app.app_context():
        assert len(db.session().exec(select(DeadlineMove)).all()) == 1  # the other save's move only
