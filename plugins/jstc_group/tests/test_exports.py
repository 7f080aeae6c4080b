"""A group's examinees and results exported through the core (CSV with BOM, .xlsx)."""
from __future__ import annotations

from datetime import datetime

from portal.testing import csv_rows, xlsx_rows
from portal.rules import JST

from .test_web import BASE, clock, download, new_group, post, stored, travel, upload  # noqa: F401  (fixture)
from .xlsx import GOOD_ROWS, fill


def test_examinees_and_results_export(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    post(client, token, f"{BASE}/examinees/{group}", {"family_name": "=cmd|' /C calc'!A0", "given_name": "太郎",
                                                      "family_kana": "イコール", "given_kana": "タロウ", "grade": "grade1"})
    rows = csv_rows(client.get(f"{BASE}/examinees/{group}/export.csv"))
    assert rows[0][:3] == ["No.", "姓", "名"]
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][2] == "太郎" and rows[1][5] == "1級"
    upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    examinees = {e.family_name: e for e in stored(app, group)[1]}
    token = travel(clock, client, datetime(2026, 7, 26, 18, 0, tzinfo=JST))
    assert post(client, token, f"{BASE}/results/record/{examinees['山田'].id}", {"score": "120"}).status_code == 200
    page = client.get(f"{BASE}/results/{group}").get_data(as_text=True)
    assert f"{BASE}/results/{group}/export.xlsx" in page
    sheet = xlsx_rows(client.get(f"{BASE}/results/{group}/export.xlsx"))
    assert sheet[0][:4] == ["No.", "氏名", "受験級", "得点(200点満点)"]
    yamada = next(r for r in sheet[1:] if r[1].startswith("山田"))
    assert yamada[3] == 120 and yamada[5] == "合格"
    assert len(sheet) == 1 + len(GOOD_ROWS)


def test_exports_and_the_audit_log_read_in_english(clock, app, logged_in):
    """Column headers and the audit log's words are translated in the plugin's own domain:
    English on English pages and downloads, never the Japanese they are written in."""
    client, _, _, token = logged_in
    group = new_group(client, token)
    post(client, token, f"{BASE}/examinees/{group}", {"family_name": "森", "given_name": "一", "family_kana": "モリ",
                                                      "given_kana": "ハジメ", "grade": "grade1"})
    rows = csv_rows(client.get(f"{BASE}/examinees/{group}/export.csv?lang=en"))
    assert rows[0] == ["No.", "Family name", "Given name", "Family name (kana)", "Given name (kana)", "Grade",
                       "Characters outside JIS levels 1 and 2"]
    sheet = xlsx_rows(client.get(f"{BASE}/results/{group}/export.xlsx?lang=en"))
    assert sheet[0] == ["No.", "Name", "Grade", "Score (out of 200)", "A question below 50%", "Result"]
    page = client.get("/admin/audit?lang=en").get_data(as_text=True)
    log = page[page.index('<div id="audit"'):]  # the log (not a toast of an action done in Japanese)
    for english in ("JSTC session", "JSTC group application", "JSTC examinee", "Application opens", "Application deadline",
                    "Person responsible", "Staff"):
        assert english in log, english
    for japanese in ("JSTC開催回", "JSTC団体申込", "JSTC受験者", "申込開始日", "申込締切日", "責任者", "運営スタッフ"):
        assert japanese not in log, japanese
    audit = csv_rows(client.get("/admin/audit/export.csv?lang=en"))  # newest first
    assert [r[3] for r in audit[1:]] == ["JSTC examinee", "JSTC group application", "JSTC group application", "JSTC session"]
    assert "Person responsible: — → 山田 花子" in audit[2][5] and "Application opens: 2026-05-01" in audit[4][5]
