"""Browser: import the manual's CSV, fix nothing, confirm, and see the 19,030-yen remittance;
a refused save shows its reason beside the save button, with the focus there."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.business_days import BusinessCalendar

from plugins.odyssey.plugin import INFO
from portal.testing import browser_login

FIXTURES = Path(__file__).parent / "fixtures"


def _open_exam_day() -> date:
    """A date a month ahead that is not an Odyssey closure day (ODY-DL-3)."""
    calendar = BusinessCalendar(INFO.closure_defaults)
    day = date.today() + timedelta(days=30)
    while calendar.closure_reason(day) is not None:
        day += timedelta(days=1)
    return day


@pytest.mark.browser
def test_import_confirm_and_see_the_remittance(live_server, page, org_factory):
    _, _, email, password = org_factory()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.goto(f"{live_server}/providers/odyssey")
    page.click("[data-panel=odyssey] a >> nth=0")
    page.fill("input[name=exam_start]", f"{_open_exam_day().isoformat()}T14:00")
    page.click("#days button[type=submit]")
    page.wait_for_selector("[data-state=draft]")
    page.set_input_files("#import-form input[type=file]", str(FIXTURES / "manual_example_cp932.csv"))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("[data-import=ok]")
    assert page.locator("[data-candidate]").count() == 2
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-action=confirm]")
    page.wait_for_selector("dd[data-state=confirmed]")
    assert page.get_attribute("[data-remittance]", "data-remittance") == "19030"
    assert "19,030円" in page.inner_text("[data-remittance]")
    page.goto(f"{live_server}/p/odyssey/")
    assert "19,030円" in page.inner_text("[data-table=days] [data-remittance]")


@pytest.mark.browser
def test_a_refusal_is_shown_next_to_the_save_button_with_the_focus(page, live_server, org_factory):
    _, _, email, password = org_factory()
    browser_login(page, live_server, email, password)
    page.goto(f"{live_server}/p/odyssey/")
    page.fill("input[name=exam_start]", f"{_open_exam_day().isoformat()}T14:00")
    page.click("#days button[type=submit]")
    page.wait_for_selector("[data-state=draft]")
    form = page.locator("[data-form=candidate]")
    for name, value in {"family_name": "丸の内", "given_name": "花子", "family_kana": "マルノウチ", "given_kana": "ハナコ",
                        "birth_date": "2004-04-02", "postal_code": "100-0005", "city": "千代田区", "street": "丸の内 3-1-1",
                        "employer": "オデッセイ高校"}.items():
        form.locator(f"[name={name}]").fill(value)
    option = form.locator("select[name=code1] option[value=PYTHON]")
    expect(option).to_contain_text("価格未登録")
    form.locator("select[name=code1]").select_option("PYTHON")
    form.get_by_role("button", name="保存").click()
    error = page.locator("[data-form-error]")
    expect(error).to_be_visible()
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()
    button = page.locator("[data-form=candidate] button[type=submit]").bounding_box()
    box = error.bounding_box()
    gap = max(0, button["y"] - (box["y"] + box["height"]), box["y"] - (button["y"] + button["height"]))
    assert gap < 100, (box, button)  # beside the button, not 1,338 px above it
    expect(page.locator("[data-field=subject1]")).to_contain_text("受験料")
