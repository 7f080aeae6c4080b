"""The operator's daily work in Chromium (issue 13): bulk mark-paid with its summary and
toast, downloads, the refund account checked before the confirm dialog with the error and
the focus at its field, skip link, focus after swaps (Odyssey's error beside its save
button: its own tests)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from helpers import make_booking, make_candidate, make_session
from portal.rules import JST
from portal.testing import browser_login

pytestmark = pytest.mark.browser


def _exam_start(days=20) -> datetime:
    return datetime.combine(date.today() + timedelta(days=days), time(10, 0), JST)


@pytest.fixture
def operator(page, live_server, org_factory):
    org_id, _, email, password = org_factory()
    browser_login(page, live_server, email, password)
    return org_id


def test_bulk_mark_paid_summary_toast_and_focus(app, page, live_server, operator):
    session_id = make_session(app, operator, start=_exam_start(), capacity=10)
    due = datetime.now(JST) + timedelta(days=3)
    for name in ("一", "二"):
        make_booking(app, operator, session_id, make_candidate(app, operator, "未払", name), method="convenience_store",
                     paid=False, due=due)
    page.goto(f"{live_server}/providers/sample/bookings")
    expect(page.locator(".flag", has_text="未入金")).to_have_count(2)
    page.locator("[data-select-all]").check()
    expect(page.locator("input[name=booking]:checked")).to_have_count(2)
    page.get_by_role("button", name="選択した予約を入金済みにする").click()
    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("2件を入金済みにしました")
    expect(summary).to_be_focused()
    expect(page.locator("#toast")).to_contain_text("2件を入金済みにしました。")
    expect(page.locator(".flag", has_text="未入金")).to_have_count(0)


def test_export_downloads_a_csv_with_bom_and_japanese(app, page, live_server, operator):
    make_booking(app, operator, make_session(app, operator, start=_exam_start()), make_candidate(app, operator, "=1+2", "花子"))
    page.goto(f"{live_server}/providers/sample/bookings")
    with page.expect_download() as info:
        page.locator("[data-exports] a", has_text="CSV").click()
    download = info.value
    assert re.fullmatch(r"bookings-sample-\d{8}\.csv", download.suggested_filename)
    data = open(download.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and "'=1+2 花子" in data.decode("utf-8-sig")


def test_refund_account_is_checked_before_the_confirm_dialog(app, page, live_server, operator):
    booking_id = make_booking(app, operator, make_session(app, operator, start=_exam_start(30)),
                              make_candidate(app, operator), method="pay_easy", paid=True, amount=16500)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto(f"{live_server}/bookings/{booking_id}")
    cancel = page.locator("#cancel form")
    for name, value in {"bank_code": "0001", "branch_code": "123", "account_number": "1234567", "holder": "ﾔﾏﾀﾞ ｼｮｳｺ"}.items():
        cancel.locator(f"[name={name}]").fill(value)
    cancel.get_by_role("button", name="キャンセルする").click()
    expect(cancel.locator("p.error[data-field=holder]")).to_contain_text("小さいカナ")
    expect(cancel.locator("[name=holder]")).to_be_focused()
    assert dialogs == []  # no "are you sure?" for a form that would be refused
    cancel.locator("[name=holder]").fill("ﾔﾏﾀﾞ ﾀﾛｳ")
    cancel.get_by_role("button", name="キャンセルする").click()
    expect(page.locator("[data-status=refund_pending]")).to_be_visible()
    assert len(dialogs) == 1
    expect(page.locator("[data-refund-account]")).to_contain_text("****567")
    expect(page.locator("#toast")).to_contain_text("完了しました")


def test_skip_link_and_focus_kept_after_a_swap(app, page, live_server, operator):
    page.goto(f"{live_server}/providers/sample/bookings")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    status = page.locator("#booking-filters select[name=status]")
    status.focus()  # as a keyboard user on the filter
    status.select_option("all")
    expect(page).to_have_url(re.compile(r"status=all"))
    expect(status).to_be_focused()  # the swap replaced the table, not the control the user is on


def test_audit_raw_json_behind_a_toggle(app, page, live_server, operator):
    make_booking(app, operator, make_session(app, operator, start=_exam_start()), make_candidate(app, operator))
    page.goto(f"{live_server}/admin/audit")
    row = page.locator("tr[data-action=book]")
    expect(row.locator("strong", has_text="予約")).to_be_visible()
    raw = row.locator("details pre")
    expect(raw).to_be_hidden()
    row.locator("summary").click()
    expect(raw).to_be_visible()
    expect(raw).to_contain_text('"status": "booked"')
