"""Benchmarks: each number is a ratio against a floor measured in the same run.

- Rules API endpoints against a bare Flask route (``/health``) served by the same app.
- The business-day count against a naive day-by-day loop asking jpholiday each day.
- The shared CSV / .xlsx export against the bare csv / openpyxl writers.
Run with ``make bench``. Nothing here asserts a time: read the ratios.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jpholiday  # noqa: E402

from portal import create_app  # noqa: E402
from portal.business_days import BusinessCalendar  # noqa: E402
from portal.rules import ClosureRule, Msg  # noqa: E402

ROUNDS, REPEAT = 300, 5


def best_of(fn, rounds=ROUNDS, repeat=REPEAT) -> float:
    """Median seconds per call over ``repeat`` batches of ``rounds`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        samples.append((time.perf_counter() - start) / rounds)
    return statistics.median(samples)


def api_benchmarks() -> None:
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "bench"})
    client = app.test_client()
    floor = best_of(lambda: client.get("/health"))
    print(f"floor: bare Flask route GET /health  {floor * 1e6:8.1f} µs/request (ratio 1.00)")
    providers = app.extensions["exam_portal.providers"]
    for info in providers.all():
        body = {"exam": info.exams[0].code if info.exams else None, "exam_start": "2027-01-05T10:00:00+09:00"}
        url = f"/api/v1/providers/{info.id}/deadlines"
        if client.post(url, json=body).status_code != 200:
            continue
        t = best_of(lambda: client.post(url, json=body))
        print(f"POST {url:45s} {t * 1e6:8.1f} µs/request  ratio {t / floor:5.2f}")


def calendar_benchmark() -> None:
    closures = [ClosureRule(date(2000, 12, 29), date(2001, 1, 3), Msg("年末年始", "year end"), yearly=True)]
    calendar = BusinessCalendar(closures)
    days = [date(2026, 1, 1) + timedelta(days=i * 7) for i in range(52)]

    def naive(d: date, n: int) -> date:
        while n:
            d -= timedelta(days=1)
            if d.weekday() < 5 and not jpholiday.is_holiday(d) and not ((d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3)):
                n -= 1
        return d

    floor = best_of(lambda: [naive(d, 4) for d in days], rounds=20)
    fast = best_of(lambda: [calendar.business_days_before(d, 4) for d in days], rounds=20)
    print(f"floor: naive day-by-day jpholiday loop (52 deadlines) {floor * 1e3:8.2f} ms (ratio 1.00)")
    print(f"BusinessCalendar.business_days_before (52 deadlines) {fast * 1e3:8.2f} ms  ratio {fast / floor:5.2f}")


def export_benchmark() -> None:
    """The shared export (formula-safe cells, JST times, BOM) against the bare writers."""
    import csv
    import io
    from datetime import datetime as dt

    from openpyxl import Workbook

    from portal import exports
    from portal.rules import JST

    rows = [(i, f"山田 太郎{i}", "=SUM(A1)" if i % 50 == 0 else "ヤマダ タロウ", dt(2026, 12, 3, 10, tzinfo=JST), 16500)
            for i in range(5000)]
    columns = [exports.Column(str(i), lambda r, i=i: r[i]) for i in range(5)]

    def bare_csv():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for r in rows:
            writer.writerow(r)

    floor = best_of(bare_csv, rounds=3)
    ours = best_of(lambda: "".join(exports.csv_chunks(columns, rows)), rounds=3)
    print(f"floor: csv.writer, 5000 rows as they are            {floor * 1e3:8.2f} ms (ratio 1.00)")
    print(f"portal.exports CSV (formula-safe, JST, BOM, chunks) {ours * 1e3:8.2f} ms  ratio {ours / floor:5.2f}")

    def bare_xlsx():
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for r in rows:
            sheet.append([r[0], r[1], r[2], r[3].replace(tzinfo=None), r[4]])
        book.save(io.BytesIO())

    floor = best_of(bare_xlsx, rounds=1, repeat=3)
    ours = best_of(lambda: exports.xlsx_file(columns, rows).close(), rounds=1, repeat=3)
    print(f"floor: openpyxl write-only, 5000 rows                {floor * 1e3:8.2f} ms (ratio 1.00)")
    print(f"portal.exports .xlsx (formula-safe, JST)            {ours * 1e3:8.2f} ms  ratio {ours / floor:5.2f}")


if __name__ == "__main__":
    os.environ.setdefault("EXAM_PORTAL_PLUGINS", "")
    api_benchmarks()
    calendar_benchmark()
    export_benchmark()
