"""End to end in Debian's Chromium (Playwright): log in, switch brand, calculator,
book, cancel, back button."""
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from helpers import make_session
from portal.plugins import hookimpl
from portal.rules import JST, Deadline, Exam, Msg, ProviderInfo

pytestmark = pytest.mark.browser


class SecondBrand:
    """A minimal second provider so that there is a brand to switch to."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="second_brand", name=Msg("セカンド検定", "Second Exam"), exams=(Exam("S1", "セカンド1級"),),
                            deadline_kinds=("application",), calculator_facts=("exam", "exam_start"))

    @hookimpl
    def provider_deadlines(self, ctx, query):
        day = ctx.calendar.business_days_before(query.exam_start.date(), 10)
        return [Deadline("application", datetime.combine(day.day, datetime.max.time().replace(microsecond=0), JST),
                         "SB-1", Msg("10営業日前が申込締切です。", "Applications close 10 business days before."))]


@pytest.fixture
def app(make_app):
    return make_app(plugins=[SecondBrand()])


@pytest.fixture
def signed_in(page, live_server, org_factory):
    org_id, _, email, password = org_factory()
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/providers/sample")
    expect(page.locator("#provider-panel")).to_be_visible()
    return org_id


def test_switch_brand_in_place_and_back_button(page, live_server, signed_in):
    page.evaluate("window.__noReload = true")
    switcher = page.get_by_role("navigation", name="試験ブランド")
    first_url = page.url
    switcher.get_by_role("link", name="セカンド検定").click()
    expect(page.locator("#provider-panel")).to_have_attribute("data-provider", "second_brand")
    expect(page).to_have_url(f"{live_server}/providers/second_brand")
    assert page.evaluate("window.__noReload") is True  # swapped in place, no page load
    page.go_back()
    expect(page).to_have_url(first_url)
    expect(page.locator("#provider-panel")).not_to_have_attribute("data-provider", "second_brand")
    page.go_forward()
    expect(page.locator("#provider-panel")).to_have_attribute("data-provider", "second_brand")
    page.reload()  # a reload gets the full page
    expect(page.locator("#provider-panel")).to_have_attribute("data-provider", "second_brand")
    expect(page.locator("header.topbar")).to_be_visible()


def test_calculator_updates_without_a_page_load(page, live_server, signed_in):
    page.goto(f"{live_server}/providers/sample")
    page.evaluate("window.__noReload = true")
    page.locator("input[name=exam_start]").fill("2026-12-12T10:00")
    page.locator("input[name=at]").fill("2026-11-20T10:00")
    result = page.locator("#calc-result")
    expect(result.locator("[data-kind=essay]")).to_contain_text("2026-12-07")
    expect(result).to_contain_text("SMP-DL-1")
    page.locator("input[name=exam_start]").fill("2027-01-05T10:00")
    expect(result.locator("[data-kind=essay]")).to_contain_text("2026-12-23")
    expect(result).to_contain_text("年末年始休業")
    assert page.evaluate("window.__noReload") is True


def test_book_then_cancel(page, live_server, signed_in, app):
    start = (datetime.now(JST) + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)
    session_id = make_session(app, signed_in, start=start, capacity=2)
    page.goto(f"{live_server}/providers/sample/book?session={session_id}")
    page.get_by_label("姓").fill("山田")
    page.get_by_label("名", exact=True).fill("花子")
    page.get_by_label("支払方法").select_option("credit_card")
    page.get_by_role("button", name="予約する").click()
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "booked")
    expect(page.locator("[data-decision=cancel]")).to_contain_text("キャンセルできます")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="キャンセルする").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "cancelled")
    page.goto(f"{live_server}/providers/sample/sessions")
    expect(page.locator(f"tr[data-session='{session_id}']")).to_contain_text("2 / 2")


def test_booking_filters_update_in_place_and_push_the_url(page, live_server, signed_in):
    page.goto(f"{live_server}/providers/sample/bookings")
    page.evaluate("window.__noReload = true")
    page.get_by_label("状態").select_option("cancelled")
    expect(page).to_have_url(re.compile(r"status=cancelled"))
    assert page.evaluate("window.__noReload") is True
    page.go_back()
    expect(page).to_have_url(f"{live_server}/providers/sample/bookings")


def test_errors_from_htmx_requests_are_shown(page, live_server, signed_in):
    page.goto(f"{live_server}/providers/sample")
    # Forge a broken CSRF token: the server refuses, and the page must say so.
    page.evaluate("""document.body.setAttribute('hx-headers', '{"X-CSRFToken": "forged"}');
                     document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())""")
    page.locator("input[name=exam_start]").fill("2026-12-12T10:00")
    expect(page.locator("#errors")).to_be_visible()
    expect(page.locator("#errors")).to_contain_text("400")


def test_dashboard_filters_planner_and_back_button(page, live_server, signed_in, app):
    start = (datetime.now(JST) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    from helpers import make_booking, make_candidate
    candidate = make_candidate(app, signed_in)
    make_booking(app, signed_in, make_session(app, signed_in, start=start + timedelta(days=18)), candidate)  # after SMP-RT-1 wait
    page.goto(f"{live_server}/dashboard?days=20")
    page.evaluate("window.__noReload = true")
    expect(page.locator("#due [data-provider=sample]").first).to_be_visible()
    page.get_by_label("ブランド").select_option("second_brand")
    expect(page).to_have_url(re.compile(r"provider=second_brand"))
    expect(page.locator("#due [data-provider=sample]")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
    page.go_back()
    expect(page.locator("#due [data-provider=sample]").first).to_be_visible()
    # The planner: record a failed attempt, see the earliest retake and the sessions.
    page.goto(f"{live_server}/candidates/{candidate}")
    page.get_by_label("ブランド").select_option("sample")
    page.get_by_label("試験コード").fill("S1")
    page.get_by_label("開始日時").fill((datetime.now(JST) - timedelta(days=3)).strftime("%Y-%m-%dT10:00"))
    page.get_by_label("結果").select_option("failed")
    page.get_by_role("button", name="記録する").click()
    plan = page.locator("#planner [data-provider=sample][data-exam=S1]")
    expect(plan).to_contain_text("SMP-RT-1")
    expect(plan.locator("[data-session-uid]").first).to_be_visible()
