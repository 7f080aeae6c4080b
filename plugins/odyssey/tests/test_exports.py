"""Odyssey's lists exported through the core (CSV with BOM, .xlsx), and the candidate
form's refusal shown next to its save button with unpriced subjects marked."""
from __future__ import annotations

import re

from portal.testing import count_statements, csv_rows, xlsx_rows

from .test_workflow import CANDIDATE, create_day, import_file, jst, post, venue  # noqa: F401  (fixture)


def test_exam_days_export_with_state_and_remittance(venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        assert import_file(client, token, day_id, "manual_example_cp932.csv").status_code == 200
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        page = client.get("/p/odyssey/").get_data(as_text=True)
        assert "/p/odyssey/export.csv" in page
        rows = csv_rows(client.get("/p/odyssey/export.csv"))
        assert rows[0] == ["試験実施日", "状態", "申込期限", "受験者数", "試験数", "支払料金"]
        assert rows[1][0].startswith("2021-02-25 10:00") and rows[1][5] == "19030"
        assert rows[1][1] == "申込済"  # the state's label, as on the screen
        sheet = xlsx_rows(client.get("/p/odyssey/export.xlsx"))
        assert sheet[1][5] == 19030


def test_candidates_export_keeps_japanese_and_neutralises_formulas(venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", {**CANDIDATE, "remarks": "=1+2"})
        assert r.status_code == 200, r.get_data(as_text=True)
        rows = csv_rows(client.get(f"/p/odyssey/day/{day_id}/candidates.csv"))
        assert rows[0][:3] == ["No.", "姓", "名"]
        assert rows[1][1:3] == ["丸の内", "花子"] and "'=1+2" in rows[1]
        assert "Office Word 2016 (学割)" in rows[1][-2]
        sheet = xlsx_rows(client.get(f"/p/odyssey/day/{day_id}/candidates.xlsx"))
        assert sheet[1][1] == "丸の内" and "'=1+2" in sheet[1]


def test_unpriced_subject_refusal_shows_at_the_subject_and_next_to_the_save_button(venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        page = client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)
        assert re.search(r'value="PYTHON"[^>]*data-unpriced>[^<]*価格未登録', page)  # marked in the list
        assert not re.search(r'value="MOS-WORD-2016"[^>]*data-unpriced', page)  # it has a student price
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", {**CANDIDATE, "code1": "PYTHON", "kind1": "general"})
        html = r.get_data(as_text=True)
        assert r.status_code == 422
        assert 'data-field="subject1"' in html
        form_error = html.index("data-form-error")
        assert form_error < html.index(">保存</button>") and form_error > html.index('name="code5"')
        assert html.index("<h1>") > -1 and '<p class="error" role="alert">' not in html[:html.index("<dl")]
        assert "data-candidate=" not in html


def test_exports_send_the_same_statements_for_one_day_or_three(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        first = create_day(client, token, "2021-02-25T10:00")
        assert post(client, token, f"/p/odyssey/add-candidate/{first}", CANDIDATE).status_code == 200
        days = count_statements(app, lambda: csv_rows(client.get("/p/odyssey/export.csv")))
        people = count_statements(app, lambda: csv_rows(client.get(f"/p/odyssey/day/{first}/candidates.csv")))
        for start in ("2021-02-26T10:00", "2021-03-02T10:00"):
            other = create_day(client, token, start)
            assert post(client, token, f"/p/odyssey/add-candidate/{other}", CANDIDATE).status_code == 200
        assert post(client, token, f"/p/odyssey/add-candidate/{first}",
                    {**CANDIDATE, "family_name": "二人目"}).status_code == 200
        assert count_statements(app, lambda: csv_rows(client.get("/p/odyssey/export.csv"))) == days
        assert count_statements(app, lambda: csv_rows(client.get(f"/p/odyssey/day/{first}/candidates.csv"))) == people


def test_exports_and_the_audit_log_read_in_english(venue):
    """Column headers and the audit log's words are translated in the plugin's own domain:
    English on English pages and downloads, never the Japanese they are written in."""
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        assert import_file(client, token, day_id, "manual_example_cp932.csv").status_code == 200
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        rows = csv_rows(client.get("/p/odyssey/export.csv?lang=en"))
        assert rows[0] == ["Exam day", "State", "Deadline", "Candidates", "Tests", "Remittance"]
        sheet = xlsx_rows(client.get(f"/p/odyssey/day/{day_id}/candidates.xlsx?lang=en"))
        assert sheet[0][-2:] == ["Subjects applied", "Late addition"]
        page = client.get("/admin/audit?lang=en").get_data(as_text=True)
        log = page[page.index('<div id="audit"'):]  # the log (not a toast of an action done in Japanese)
        for english in ("Odyssey exam day", "CSV import", "State change"):
            assert english in log, english
        for japanese in ("オデッセイ試験実施日", "オデッセイ受験者", "CSVインポート", "状態の変更", "試験実施日", "申込期限"):
            assert japanese not in log, japanese
        audit = csv_rows(client.get("/admin/audit/export.csv?lang=en"))
        assert {r[3] for r in audit[1:]} >= {"Odyssey exam day"} and {r[2] for r in audit[1:]} >= {"CSV import", "State change"}
