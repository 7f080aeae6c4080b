"""ODY-CSV: reading application CSV files (real files under fixtures/)."""
from __future__ import annotations

from pathlib import Path

import pytest

from plugins.odyssey import csv_import
from plugins.odyssey.catalog import load_subjects

FIXTURES = Path(__file__).parent / "fixtures"
SUBJECTS = {s.code: s for s in load_subjects()}


def read(name: str) -> csv_import.ImportResult:
    return csv_import.read((FIXTURES / name).read_bytes(), SUBJECTS)


def errors(result) -> set[tuple[int, str]]:
    return {(e.line, e.column) for e in result.errors}


@pytest.mark.parametrize("name, encoding", [("manual_example_cp932.csv", "CP932"), ("manual_example_utf8.csv", "UTF-8"),
                                            ("manual_example_utf8_bom_title.csv", "UTF-8 (BOM)")])
def test_manual_example_in_every_encoding(name, encoding):
    result = read(name)
    assert result.ok and result.encoding == encoding
    (_, hanako), (_, taro) = result.candidates
    assert hanako.values["family_kana"] == "マルノウチ" and hanako.tests[0].price_kind == "student"
    assert hanako.tests[0].subject.code == "MOS-WORD-2016"
    assert taro.tests[0].subject.code == "VBA-EXCEL-BASIC" and taro.tests[0].period == "1"
    assert taro.values["street"] == "丸の内 9-8-7 新東京ビル"


def test_title_row_is_skipped_with_a_message():
    result = read("manual_example_utf8_bom_title.csv")
    assert result.ok and len(result.candidates) == 2
    assert [n.ja for n in result.notices] == ["1行目はタイトル行のため読み飛ばしました。"]
    assert [line for line, _ in result.candidates] == [2, 3]


def test_a_file_with_only_the_title_row_imports_nothing():
    result = read("title_only.csv")
    assert not result.ok and result.notices and result.errors[0].message.ja == "受験者の行がありません。"


def test_vouchers_and_periods():
    result = read("voucher_and_period.csv")
    assert result.ok
    word, vba = result.candidates[0][1].tests
    assert (word.period, word.ticket, word.price_kind) == ("2", "XX140001abcd", "voucher")
    assert (vba.period, vba.ticket, vba.price_kind) == ("", "XX140002abcd", "voucher")


def test_every_column_error_is_named_in_japanese():
    result = read("column_errors.csv")
    assert not result.ok
    assert errors(result) >= {(1, "C"), (1, "D"), (1, "E"), (1, "F"), (1, "G"), (1, "K"), (1, "L"),
                              (2, "H"), (2, "O"), (2, "T"), (3, "Q")}
    texts = [csv_import.error_text(e) for e in result.errors]
    assert "1行目 C列: カナ(姓): 全角カタカナで入力してください。" in texts
    assert any("半角カナは使えません" in t for t in texts)
    assert any(t.startswith("2行目 O列") and "NOPE-1" in t for t in texts)
    assert any(t.startswith("3行目 Q列") and "重複" in t for t in texts)
    assert any(t.startswith("3行目 Q列") and "空けずに" in t for t in texts)
    assert any("column C" in csv_import.error_text(e, "en") for e in result.errors)


def test_excel_mangled_house_number_is_flagged():
    result = read("excel_date_street.csv")
    assert errors(result) == {(1, "J"), (2, "J")}
    assert "Excelで番地が日付に変換された" in result.errors[0].message.ja


def test_wrong_column_count():
    result = read("wrong_column_count.csv")
    assert [(e.line, e.column) for e in result.errors] == [(1, "")]
    assert "20列" in result.errors[0].message.ja


def test_discounts_need_their_facts_and_the_family_must_offer_them():
    result = read("discount_without_school.csv")
    assert errors(result) == {(1, "L"), (1, "T"), (2, "O")}
    texts = " ".join(e.message.ja for e in result.errors)
    assert "学校名" in texts and "職業訓練生は学割の対象外" in texts and "学割価格がありません" in texts


def test_unknown_encoding_and_empty_file():
    assert "文字コード" in read("not_text.csv").errors[0].message.ja
    assert csv_import.read(b"", SUBJECTS).errors[0].message.ja == "ファイルが空です。"


def test_large_cp932_file():
    result = read("large_300_rows_cp932.csv")
    assert result.ok and len(result.candidates) == 300


@pytest.mark.parametrize("street, mangled", [("2024/3/1", True), ("3/1", True), ("3月1日", True), ("1-Mar", True),
                                             ("45352", True), ("丸の内 3-1-1", False), ("３－１－１", False), ("1-1", False)])
def test_excel_date_patterns(street, mangled):
    from plugins.odyssey.fields import EXCEL_DATE
    assert bool(EXCEL_DATE.match(street)) is mangled


def test_control_characters_in_a_cell_are_an_error_of_that_cell():
    """PostgreSQL cannot store NUL: a CSV cell holding one (or another control character) is
    an error naming its line and column, and the file imports nothing."""
    data = (FIXTURES / "manual_example_utf8.csv").read_bytes().replace("丸の内,花子".encode(), "丸の\x00内,花\x01子".encode(), 1)
    result = csv_import.read(data, SUBJECTS)
    assert not result.ok
    assert {(1, "A"), (1, "B")} <= errors(result)
    assert any("制御文字" in csv_import.error_text(e) for e in result.errors)


def test_a_formula_looking_cell_is_kept_as_text():
    """Imported text is stored as text (the guard applies when the portal writes a sheet)."""
    data = (FIXTURES / "manual_example_utf8.csv").read_bytes().replace("丸の内 3-1-1".encode(), "=1+1".encode(), 1)
    result = csv_import.read(data, SUBJECTS)
    assert result.ok and result.candidates[0][1].values["street"] == "=1+1"


def test_characters_outside_jis_x_0208_are_named_one_by_one():
    """3.1.2 ⑥ 注意1: the characters a PC may not show are listed (the whole name is tried at once first)."""
    from plugins.odyssey.fields import outside_jis_x_0208
    assert outside_jis_x_0208("山田 太郎") == [] and outside_jis_x_0208("ヤマダ") == []
    assert outside_jis_x_0208("髙橋") == ["髙"]
    assert outside_jis_x_0208("𠮷田 﨑") == ["𠮷", "﨑"]
