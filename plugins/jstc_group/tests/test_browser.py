"""End to end in Debian's Chromium: a session, a group, the live quote, the bulk form
downloaded, filled in Excel's format, uploaded once, and the invoice."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.rules.parse import now_jst

from .xlsx import GOOD_ROWS, fill
from portal.testing import browser_login

pytestmark = pytest.mark.browser


def test_upload_a_bulk_form_and_see_the_invoice(page, live_server, org_factory, tmp_path: Path):
    _, _, email, password = org_factory()
    page.goto(f"{live_server}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()

    page.goto(f"{live_server}/providers/jstc_group")
    page.locator('[data-link="jstc-sessions"]').click()
    today = now_jst().date()
    page.get_by_label("開催回").fill("第140回")
    page.get_by_label("試験日").fill((today + timedelta(days=30)).isoformat())
    page.get_by_label("申込開始日").fill((today - timedelta(days=10)).isoformat())
    page.get_by_label("申込締切日").fill((today + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="登録").click()
    page.get_by_role("button", name="団体申込を作成").click()
    expect(page.get_by_role("heading", name="第140回 団体申込")).to_be_visible()

    page.get_by_label("申込責任者").fill("山田 花子")
    page.get_by_label("受験会場").fill("本校 講堂")
    page.get_by_label("当日運営の担当者").fill("教務課")
    page.get_by_role("button", name="保存").click()
    # saved: the group requirements are met, so the upload form appears (JST-GR-1)
    expect(page.locator("[data-upload-blocked]")).to_have_count(0)
    expect(page.locator('input[name="form"]')).to_have_count(1)

    # one examinee by hand: the live quote says it is not a group yet
    add = page.locator('[data-form="add-examinee"]')
    add.get_by_label("姓", exact=True).fill("森")
    add.get_by_label("名", exact=True).fill("一")
    add.get_by_label("セイ").fill("モリ")
    add.get_by_label("メイ").fill("ハジメ")
    add.get_by_label("受験級").select_option("grade1")
    add.get_by_role("button", name="追加").click()
    expect(page.locator('[data-count="total"]')).to_have_text("1")
    expect(page.locator("[data-quote-explanation]")).to_contain_text("10名に満たない")

    with page.expect_download() as download_info:
        page.locator('[data-link="download-form"]').click()
    form = download_info.value.path().read_bytes()
    filled = tmp_path / "一括申込書.xlsx"
    filled.write_bytes(fill(form, GOOD_ROWS[:9], start=7))  # row 6 holds the examinee added above

    page.on("dialog", lambda dialog: dialog.accept())  # "the upload is final" confirmation
    page.locator('input[name="form"]').set_input_files(str(filled))
    page.get_by_role("button", name="アップロードして申込を完了する").click()
    expect(page.locator('[data-locked="true"]')).to_contain_text("申込が完了しました")
    expect(page.locator('[data-count="total"]')).to_have_text("10")
    expect(page.locator('input[name="form"]')).to_have_count(0)

    page.locator('[data-link="invoice"]').click()
    expect(page).to_have_url(re.compile(r"/p/jstc_group/invoice/\d+$"))
    invoice = page.locator("[data-invoice-page]")
    # 17,000 + 2 x 9,000 + 3 x 6,400 + 4 x 3,500 = 68,200 fees, minus the 10-20 tier's 3,000
    expect(invoice.locator("[data-fees-total]")).to_have_text("68,200円")
    expect(invoice.locator("[data-expense]")).to_have_text("3,000円")
    expect(invoice.locator("[data-invoice]")).to_have_text("65,200円")
    expect(invoice).to_contain_text("山田 花子")


def test_the_invoice_prints_under_the_csp(app, page, live_server, csp_reports):
    """The invoice's print button (no inline handler: portal.js calls window.print)."""
    from sqlmodel import select
    from portal import db
    from plugins.jstc_group.models import JstcApplication
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    email, password = result.output.strip().splitlines()[-1].split(": ", 1)[1].split(" / ")
    with app.app_context():
        application_id = db.session().exec(select(JstcApplication.id)).first()
    browser_login(page, live_server, email, password)
    page.goto(f"{live_server}/p/jstc_group/invoice/{application_id}")
    page.evaluate("window.print = () => { window.__printed = true }")
    page.locator("[data-print]").click()
    assert page.evaluate("window.__printed") is True
    assert csp_reports == []
