"""Calendar-date arithmetic the rulebooks share."""
from __future__ import annotations

from datetime import date


def same_date_years_later(d: date, years: int = 1) -> date:
    """The same calendar date ``years`` later; 29 Feb becomes 28 Feb in a common year.

    This is both the rulebooks' "1年後(同じ日付)" and the end of a one-year period counted
    under 民法 140/143 (the period starting the next day ends on the eve of the
    corresponding day): either way the last day is the same date a year later.
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 Feb
        return date(d.year + years, 2, 28)
