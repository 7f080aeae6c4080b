"""The shared export (formula-safe cells, JST times, BOM, chunks) against the bare csv /
openpyxl writers over the same 2,000 rows. Run: ``python bench/exports_bench.py``."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import Workbook

from _common import interleaved, row
from portal import exports
from portal.rules import JST

ROWS = [(i, f"山田 太郎{i}", "=SUM(A1)" if i % 50 == 0 else "ヤマダ タロウ", datetime(2026, 12, 3, 10, tzinfo=JST), 16500)
        for i in range(2000)]
COLUMNS = [exports.Column(str(i), lambda r, i=i: r[i]) for i in range(5)]


def bare_csv() -> None:
    writer = csv.writer(io.StringIO())
    for r in ROWS:
        writer.writerow(r)


def bare_xlsx() -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for r in ROWS:
        sheet.append([r[0], r[1], r[2], r[3].replace(tzinfo=None), r[4]])
    book.save(io.BytesIO())


def main() -> None:
    m = interleaved(bare_csv, lambda: "".join(exports.csv_chunks(COLUMNS, ROWS)), calls=2, rounds=5)
    row("-", "portal.exports CSV (formula-safe, JST, BOM, chunks)", "2,000 rows", "csv.writer", m,
        f"{m.ratio:.2f}×", "(information)", None)
    m = interleaved(bare_xlsx, lambda: exports.xlsx_file(COLUMNS, ROWS).close(), calls=1, rounds=3)
    row("-", "portal.exports .xlsx (formula-safe, JST)", "2,000 rows", "openpyxl write-only", m,
        f"{m.ratio:.2f}×", "(information)", None)


if __name__ == "__main__":
    main()
