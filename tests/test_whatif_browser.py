"""The live what-if in Chromium: the preview follows the form as the admin edits it, and the
save applies what it showed."""
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from helpers import make_booking, make_candidate, make_session
from portal import db
from portal.business_days import BusinessCalendar
from portal.models import AuditEvent, BookingDeadline
from portal.rules import JST
from tests.sample_provider import INFO
from portal.testing import browser_login

pytestmark = pytest.mark.browser


def _sunday_in_three_weeks() -> datetime:
    day = date.today() + timedelta(days=21)
    return datetime.combine(day + timedelta(days=(6 - day.weekday()) % 7), time(10, 0), JST)


def test_the_live_preview_follows_the_form_and_the_save_applies_it(page, live_server, app, org_factory):
    org_id, _, email, password = org_factory()
    booking = make_booking(app, org_id, make_session(app, org_id, start=_sunday_in_three_weeks()),
                           make_candidate(app, org_id, "高橋", "美咲"))
    with app.app_context():
        deadline = db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking,
                                                                   BookingDeadline.kind == "essay")).one().at
    # a business day between the essay deadline and the exam: closing it moves both SMP-DL-1
    # deadlines (essay and application, which counts across it) a business day earlier
    closed = BusinessCalendar(INFO.closure_defaults).business_days_after(deadline.date(), 1).day

    browser_login(page, live_server, email, password)
    page.goto(f"{live_server}/admin/providers/sample/closures")
    form = page.locator("#closure-form")
    preview = page.locator("#closure-whatif [data-whatif]")

    form.get_by_label("名称").fill("サーバー保守")
    form.get_by_label("開始日").fill(closed.isoformat())
    expect(preview).to_have_attribute("data-moved", "2")
    expect(preview).to_contain_text("この変更で期限2件が変わります")
    expect(preview).to_contain_text("高橋 美咲")
    expect(preview).to_contain_text("SMP-DL-1")
    expect(preview).to_contain_text("サーバー保守")  # the explanation names the new closure
    expect(preview.locator(f'[data-move="sample-essay-booking-{booking}"]')).to_be_visible()

    form.get_by_label("開始日").fill((closed + timedelta(days=120)).isoformat())  # the preview follows the edit
    expect(preview).to_have_attribute("data-moved", "0")
    expect(preview).to_contain_text("この変更で変わる期限はありません")
    form.get_by_label("開始日").fill(closed.isoformat())
    expect(preview).to_have_attribute("data-moved", "2")
    shown_new = preview.locator(f'[data-move="sample-essay-booking-{booking}"] strong').inner_text()

    page.evaluate("window.__noReload = true")
    form.get_by_role("button", name="追加").click()
    expect(page.locator("[data-notice]")).to_contain_text("期限2件を変更しました")
    expect(page.locator("[data-closure]", has_text="サーバー保守")).to_be_visible()
    assert page.evaluate("window.__noReload") is True  # saved in place (htmx)
    with app.app_context():
        s = db.session()
        moved = s.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking,
                                                     BookingDeadline.kind == "essay")).one().at
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "closure_day")).one()
    assert moved < deadline and event.after["deadlines_moved"] == 2
    assert shown_new.startswith(moved.strftime("%Y-%m-%d")) and shown_new.endswith(moved.strftime("%H:%M"))
