"""End to end in Chromium: book FE through the core's generic booking pages (the IPA rules
answer through hook provider_booking_decision), try a forbidden change, see why."""
import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from portal import db
from portal.models import ExamSession
from portal.rules import JST
from portal.rules.parse import now_jst

pytestmark = pytest.mark.browser


def _session(app, org_id, days, venue, capacity=5):
    start = datetime.combine(now_jst().date() + timedelta(days=days), time(10, 0), JST)
    with app.app_context():
        with db.transaction() as s:
            row = ExamSession(organization_id=org_id, provider="cbt_ipa", exam="FE", venue=venue, start=start,
                              end=start + timedelta(minutes=200), capacity=capacity)
            s.add(row)
            s.flush()
            return row.id


def test_book_fe_then_a_forbidden_change_explains_why(app, page, live_server, org_factory):
    org_id, _, email, password = org_factory()
    booked = _session(app, org_id, 20, "東京会場")
    too_late = _session(app, org_id, 400, "東京会場")   # after the last selectable date (IPA-CH-2)
    locked = _session(app, org_id, 1, "大阪会場")       # inside its own change lock (IPA-CH-1)

    page.goto(f"{live_server}/providers/cbt_ipa/book")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="新規予約")).to_be_visible()

    # The IPA facts are asked by the generic form; the picker explains each date.
    form = page.locator("form#book")
    expect(form.locator("[data-provider-facts]")).to_contain_text("科目A免除の有効期間の最終日")
    picker = page.locator("#picker")
    expect(picker.locator(f'[data-session="{too_late}"]')).to_contain_text("選択できる最後の試験日")
    expect(picker.locator(f'[data-session="{too_late}"] input')).to_be_disabled()
    expect(picker.locator(f'[data-session="{locked}"]')).to_contain_text("申込後は一切変更できません")
    # The subject A exemption (IPA-CH-3) moves the last selectable date: the picker follows in place.
    form.locator("input[name=exemption_valid_until]").fill((now_jst().date() + timedelta(days=10)).isoformat())
    form.locator("input[name=exemption_valid_until]").dispatch_event("change")
    expect(picker.locator(f'[data-session="{booked}"]')).to_contain_text("IPA-CH-3")
    form.locator("input[name=exemption_valid_until]").fill("")
    form.locator("input[name=exemption_valid_until]").dispatch_event("change")
    expect(picker.locator(f'[data-session="{booked}"]')).to_have_attribute("data-allowed", "true")
    form.locator("select[name=venue]").select_option("東京会場")
    expect(picker.locator(f'[data-session="{locked}"]')).to_have_count(0)

    page.get_by_label("姓", exact=True).fill("山田")
    page.get_by_label("名", exact=True).fill("花子")
    picker.locator(f'[data-session="{booked}"] input').check()
    page.get_by_role("button", name="予約する").click()
    expect(page.locator("#booking-detail")).to_contain_text("山田 花子")
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    expect(page.locator('[data-kind="change"]')).to_contain_text("IPA-CH-1")

    # In the change picker the far date is disabled and says why …
    change = page.locator("#change")
    expect(change.locator('[data-decision="change"]')).to_have_class(re.compile("ok"))
    expect(change.locator(f'[data-session="{too_late}"]')).to_contain_text("選択できる最後の試験日")
    expect(change.locator(f'[data-session="{locked}"]')).to_contain_text("2日後までの試験")
    # … and forcing it anyway (a stale page) is refused by the server with the reason, in place.
    change.locator(f'[data-session="{too_late}"] input').evaluate("el => { el.disabled = false; el.checked = true; }")
    change.get_by_role("button", name="変更する").click()
    expect(page.locator('#booking-detail .error[data-field="session_id"]')).to_contain_text("選択できる最後の試験日")
    expect(page.locator('#booking-detail .error[data-field="session_id"]')).to_contain_text("IPA-CH-2")
    expect(page.locator("[data-current]")).to_contain_text("東京会場")
