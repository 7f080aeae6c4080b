"""The business-day count against a naive day-by-day loop asking jpholiday each day.
Run: ``python bench/business_days_bench.py``."""
from __future__ import annotations

from datetime import date, timedelta

import jpholiday

from _common import interleaved, row
from portal.business_days import BusinessCalendar
from portal.rules import ClosureRule, Msg


def main() -> None:
    closures = [ClosureRule(date(2000, 12, 29), date(2001, 1, 3), Msg("年末年始", "year end"), yearly=True)]
    days = [date(2026, 1, 1) + timedelta(days=i * 7) for i in range(52)]

    def naive(d: date, n: int) -> date:
        while n:
            d -= timedelta(days=1)
            if d.weekday() < 5 and not jpholiday.is_holiday(d) and not ((d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3)):
                n -= 1
        return d

    calendar = BusinessCalendar(closures)
    m = interleaved(lambda: [naive(d, 4) for d in days], lambda: [calendar.business_days_before(d, 4) for d in days],
                    calls=5)
    row("-", "BusinessCalendar.business_days_before (52 deadlines)", "-", "jpholiday loop", m, f"{m.ratio:.2f}×",
        "< 1×", m.ratio < 1)
    # A new calendar per request (the old rule context) vs the per-process year tables.
    m = interleaved(lambda: [naive(d, 4) for d in days],
                    lambda: [BusinessCalendar(closures).business_days_before(d, 4) for d in days], calls=5)
    row("-", "a new BusinessCalendar per question (tables shared per process)", "-", "jpholiday loop", m,
        f"{m.ratio:.2f}×", "(information)", None)


if __name__ == "__main__":
    main()
