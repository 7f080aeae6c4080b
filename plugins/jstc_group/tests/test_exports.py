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
