"""Browser: import the manual's CSV, fix nothing, confirm, and see the 19,030-yen remittance."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from portal.business_days import BusinessCalendar

from plugins.odyssey.plugin import INFO

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
