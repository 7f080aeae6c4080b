"""The bulk application form (一括申込書) built and read back: good and bad rows (JST-AP-1/2)."""
from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from plugins.jstc_group import bulk_form
from plugins.jstc_group.sessions import SessionDates

from .xlsx import GOOD_ROWS, fill

SESSION = SessionDates("第124回", date(2020, 11, 15), date(2020, 9, 1), date(2020, 10, 9))


@pytest.fixture(scope="module")
def blank() -> bytes:
    return bulk_form.build_form(SESSION, 7, "テスト校")


def read(data: bytes, session_id: int = 7):
    return bulk_form.read_form(data, session_id, SESSION.name)


def test_the_blank_form_is_a_real_workbook_for_the_session(blank):
    wb = load_workbook(BytesIO(blank))
    ws = wb[bulk_form.SHEET]
    assert ws["B2"].value == "第124回" and ws["B3"].value == "テスト校"
    assert [c.value for c in ws[bulk_form.HEADER_ROW]][:6] == list(bulk_form.HEADERS)
    assert ws.max_row == bulk_form.HEADER_ROW  # no examinee rows
    assert wb[bulk_form.META_SHEET].sheet_state == "hidden"
    assert "プロフェッショナル,1級,2級,3級" in ws.data_validations.dataValidation[0].formula1


def test_good_rows_are_read_in_order(blank):
    result = read(fill(blank, GOOD_ROWS))
    assert result.ok, [p.message.ja for p in result.problems]
    assert len(result.rows) == 10
    assert result.rows[0] == bulk_form.FormRow(6, "山田", "太郎", "ヤマダ", "タロウ", "grade2", "")
    assert result.rows[-1].grade == "grade2"  # full-width ２級
    assert [r.line for r in result.rows] == list(range(6, 16))


def test_empty_rows_between_are_skipped_and_spaces_trimmed(blank):
    data = fill(blank, [("　山田 ", "太郎", "ﾔﾏﾀﾞ", "タロウ", "2級"), (None, None, None, None, None), ("佐藤", "花子", "サトウ", "ハナコ", 3)])
    result = read(data)
    assert result.ok
    assert [(r.line, r.family_name, r.family_kana, r.grade) for r in result.rows] == [
        (6, "山田", "ヤマダ", "grade2"), (8, "佐藤", "サトウ", "grade3")]


def test_prefilled_draft_rows_round_trip():
    rows = [bulk_form.FormRow(1, "山田", "太郎", "ヤマダ", "タロウ", "grade1")]
    result = read(bulk_form.build_form(SESSION, 7, "テスト校", rows))
    assert [(r.family_name, r.grade) for r in result.rows] == [("山田", "grade1")]


def test_every_bad_row_is_reported_in_japanese(blank):
    rows = GOOD_ROWS[:3] + [
        ("山田", "太郎", "ヤマダ", "タロウ", "2級"),        # 9: duplicate of row 6
        ("", "花子", "サトウ", "ハナコ", "3級"),           # 10: family name empty
        ("木村", "健", "キムラ", "ケン", "4級"),           # 11: grade not offered
        ("森", "愛", "もり", "アイ", "3級"),               # 12: kana in hiragana
        ("林", 123, "ハヤシ", "イチ", "3級"),              # 13: a number as the given name
        ("池田", "誠", "イケダ", "マコト", None),          # 14: grade empty
        ("山田", "太郎", "ヤマダ", "タロウ", "3級"),        # 15: same person, another grade: fine
    ]
    result = read(fill(blank, rows))
    messages = {p.line: p.message.ja for p in result.problems}
    assert messages == {
        9: "9行目: 6行目と同じ受験者・受験級です(山田 太郎、2級)。",
        10: "10行目: 姓が空欄です。",
        11: "11行目: 受験級「4級」は選べません(プロフェッショナル・1級・2級・3級のいずれか)。",
        12: "12行目: セイは全角カタカナで入力してください(「もり」)。",
        13: "13行目: 名は文字で入力してください。",
        14: "14行目: 受験級が空欄です。",
    }
    assert {p.column for p in result.problems} == {"B", "C", "D", "F"}
    assert not result.ok
    assert result.problems[0].message.en.startswith("Row 9:")


def test_names_outside_jis_are_flagged_not_refused(blank):
    result = read(fill(blank, [("髙橋", "一郎", "タカハシ", "イチロウ", "1級"), ("𠮷田", "﨑子", "ヨシダ", "サキコ", "2級")]))
    assert result.ok
    assert [r.jis_flag for r in result.rows] == ["髙", "𠮷﨑"]
    assert len(result.flagged) == 2


def test_the_form_of_another_session_is_refused(blank):
    result = read(fill(blank, GOOD_ROWS), session_id=8)
    assert [p.message.ja for p in result.problems] == [
        "別の開催回(第124回)の一括申込書です。第124回の申込書をダウンロードして記入してください。"]
    assert result.rows == []


def test_a_workbook_not_made_by_the_portal_is_refused():
    wb = Workbook()
    wb.active.append(["姓", "名"])
    out = BytesIO()
    wb.save(out)
    assert "ポータルで作成した一括申込書ではありません" in read(out.getvalue()).problems[0].message.ja


@pytest.mark.parametrize("data", [b"", b"not an excel file", b"PK\x03\x04 broken zip", "姓,名\n山田,太郎".encode("cp932")])
def test_files_that_are_not_xlsx_are_refused(data):
    result = read(data)
    assert not result.ok and "Excel" in result.problems[0].message.ja


def test_a_file_over_the_size_limit_is_refused():
    assert "大きすぎます" in read(b"PK" + b"0" * bulk_form.MAX_BYTES).problems[0].message.ja


def test_moved_columns_are_refused(blank):
    data = fill(blank, GOOD_ROWS, header=("No.", "名", "姓", "セイ", "メイ", "受験級"))
    assert "見出し" in read(data).problems[0].message.ja


def test_an_empty_form_is_refused(blank):
    assert read(blank).problems[0].message.ja == "受験者が記入されていません。"
