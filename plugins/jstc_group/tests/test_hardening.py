"""Issue 11 for the bulk form: a damaged .xlsx is a 422 with a message (never a 500), names
that look like formulas are written as text and read back as entered, the upload form names
its size limit, and a larger upload is a 413 page."""
from __future__ import annotations

import io
import zipfile
from io import BytesIO

from openpyxl import load_workbook

from plugins.jstc_group import bulk_form
from plugins.jstc_group.bulk_form import FIRST_ROW, SHEET

from .test_web import BASE, clock, download, new_group, post, stored, upload  # noqa: F401 - fixtures
from .xlsx import GOOD_ROWS, fill

FORMULA = '=HYPERLINK("http://evil.example","x")'


def _truncated_sheet(data: bytes) -> bytes:
    """The same .xlsx with its first sheet's XML cut in half (a valid zip, a broken sheet)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            dst.writestr(item, content)
    return out.getvalue()


def test_a_form_with_a_truncated_sheet_is_a_422_with_a_message(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    damaged = _truncated_sheet(fill(download(client, group), GOOD_ROWS))
    response = upload(client, token, group, damaged)
    assert response.status_code == 422
    assert "ファイルが壊れています" in response.get_data(as_text=True)
    application, examinees = stored(app, group)
    assert not application.locked and examinees == []


def test_read_form_reports_a_damaged_sheet_instead_of_raising():
    from plugins.jstc_group.sessions import SessionDates
    from datetime import date
    dates = SessionDates("第1回", date(2026, 7, 26), date(2026, 5, 1), date(2026, 6, 19))
    data = _truncated_sheet(fill(bulk_form.build_form(dates, 1, "団体"), GOOD_ROWS))
    result = bulk_form.read_form(data, 1, "第1回")
    assert not result.ok and result.rows == []
    assert "damaged" in result.problems[0].message.en


def test_a_formula_name_is_written_as_text_and_read_back_as_entered(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    row = {"family_name": FORMULA, "given_name": "+1", "family_kana": "ヤマダ", "given_kana": "タロウ", "grade": "grade2"}
    assert post(client, token, f"{BASE}/examinees/{group}", row).status_code == 200
    assert stored(app, group)[1][0].family_name == FORMULA  # stored as the text entered
    form = download(client, group)
    ws = load_workbook(BytesIO(form))[SHEET]
    family, given = ws.cell(FIRST_ROW, 2), ws.cell(FIRST_ROW, 3)
    assert family.data_type == "s" and family.value == "'" + FORMULA  # text, not a live formula
    assert given.value == "'+1"
    # The downloaded form uploaded again stores the names as entered, without the guard.
    more = [("佐藤", f"花子{i}", "サトウ", "ハナコ", "3級") for i in range(9)]
    assert upload(client, token, group, fill(form, more, start=FIRST_ROW + 1)).status_code == 204
    names = [(e.family_name, e.given_name) for e in stored(app, group)[1]]
    assert (FORMULA, "+1") in names


def test_control_characters_in_a_cell_are_a_problem_not_a_stored_value():
    """Excel escapes a control character as ``_x0001_``, which a reader may turn back into
    U+0001: such a name is a problem of its row, never a value to store."""
    row, problems = bulk_form.check_row(7, (1, "山\x00田", "太郎", "ヤマダ", "タロウ", "2級"), {})
    assert row is None and "制御文字" in problems[0].message.ja and problems[0].line == 7


def test_the_upload_form_names_its_limit_and_a_larger_request_is_a_413(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    page = client.get(f"{BASE}/groups/{group}").get_data(as_text=True)
    assert "2MBまで" in page
    response = upload(client, token, group, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413 and "2MB" in response.get_data(as_text=True)
    assert not stored(app, group)[0].locked


def test_examinee_names_are_purged_after_retention_and_audit_redacted(clock, app, logged_in):
    from sqlmodel import select
    from portal import db
    from portal.models import AuditEvent
    client, _, _, token = logged_in
    group = new_group(client, token)  # the session's exam date is 2026-07-26
    row = {"family_name": "山田", "given_name": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ", "grade": "grade2"}
    assert post(client, token, f"{BASE}/examinees/{group}", row).status_code == 200
    assert 'data-planned-purge="2027-07-26"' in client.get("/admin/retention").get_data(as_text=True)
    clock.move_to("2027-07-25T12:00:00+09:00")
    assert "examinees purged of personal data: 0" in app.test_cli_runner().invoke(args=["housekeeping"]).output
    clock.move_to("2027-07-26T00:30:00+09:00")
    assert "examinees purged of personal data: 1" in app.test_cli_runner().invoke(args=["housekeeping"]).output
    examinee = stored(app, group)[1][0]
    assert (examinee.given_name, examinee.family_kana, examinee.grade) == ("", "", "grade2")
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "jstc_group_examinee")).all()
    assert events and all("山田" not in str(e.after) and "ヤマダ" not in str(e.after) for e in events)
    assert "examinees purged of personal data: 0" in app.test_cli_runner().invoke(args=["housekeeping"]).output
