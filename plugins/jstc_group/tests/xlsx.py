"""Filling a bulk form in the tests as an operator would in Excel (openpyxl)."""
from __future__ import annotations

from io import BytesIO
from typing import Iterable, Sequence

from openpyxl import load_workbook

from plugins.jstc_group.bulk_form import FIRST_ROW, HEADER_ROW, SHEET

GOOD_ROWS = [
    ("山田", "太郎", "ヤマダ", "タロウ", "2級"),
    ("佐藤", "花子", "サトウ", "ハナコ", "3級"),
    ("鈴木", "一郎", "スズキ", "イチロウ", "1級"),
    ("高橋", "次郎", "タカハシ", "ジロウ", "プロフェッショナル"),
    ("田中", "三郎", "タナカ", "サブロウ", "2級"),
    ("伊藤", "四郎", "イトウ", "シロウ", "3級"),
    ("渡辺", "五郎", "ワタナベ", "ゴロウ", "3級"),
    ("中村", "六郎", "ナカムラ", "ロクロウ", "2級"),
    ("小林", "七子", "コバヤシ", "ナナコ", "3級"),
    ("加藤", "八子", "カトウ", "ハチコ", "２級"),
]


def fill(form: bytes, rows: Iterable[Sequence], start: int = FIRST_ROW, header: Sequence | None = None) -> bytes:
    """``form`` with ``rows`` (姓, 名, セイ, メイ, 受験級) written from row ``start`` on."""
    wb = load_workbook(BytesIO(form))
    ws = wb[SHEET]
    for i, row in enumerate(rows):
        ws.cell(start + i, 1, i + 1)
        for col, value in enumerate(row, start=2):
            ws.cell(start + i, col, value)
    if header is not None:
        for col, value in enumerate(header, start=1):
            ws.cell(HEADER_ROW, col, value)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
