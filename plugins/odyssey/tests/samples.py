"""Synthetic application CSVs of any size (ODY-CSV columns A–T), for the import's
statement-count test and ``bench/odyssey_import.py``."""
from __future__ import annotations

FAMILIES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
            ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ")]
GIVEN = [("花子", "ハナコ"), ("太郎", "タロウ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"), ("健", "ケン"),
         ("陽菜", "ヒナ"), ("翔", "ショウ"), ("結衣", "ユイ"), ("蓮", "レン"), ("葵", "アオイ")]


def csv_rows(count: int) -> list[list[str]]:
    """``count`` valid rows: varied names and birth dates; students of a school at the
    student price, the others at the general price, one test in three with a second one."""
    rows = []
    for i in range(count):
        family, family_kana = FAMILIES[i % len(FAMILIES)]
        given, given_kana = GIVEN[(i // len(FAMILIES)) % len(GIVEN)]
        birth = f"{1970 + i % 35}/{1 + i % 12}/{1 + i % 28}"
        student = i % 2 == 1
        first = "(学割)MOS-WORD-2016" if student else "VBA-EXCEL-BASIC 1"
        second = "VBA-EXCEL-BASIC 2" if student and i % 3 == 0 else ""
        rows.append([family, given, family_kana, given_kana, str(i % 2), birth, "100-0005", "東京都", "千代田区",
                     f"丸の内 1-{i % 50 + 1}", "", "オデッセイ高校" if student else "", "", "", first, second, "", "", "",
                     "1" if student else "2"])
    return rows


def csv_bytes(count: int, encoding: str = "cp932") -> bytes:
    return "".join(",".join(row) + "\r\n" for row in csv_rows(count)).encode(encoding)
