"""Japanese business-day arithmetic with per-provider closure days.

A business day (営業日) is a day that is not Saturday or Sunday, not a national holiday
(祝日, 振替休日 and 国民の休日 as ``jpholiday`` computes them) and not one of the provider's
closure days. Every count reports the days it skipped, so that explanations can name them.

Speed: each year is expanded once into a sorted array of business-day ordinals and a map
of the non-business days with their reasons; counting N business days is a bisection.
Closures are never registered in jpholiday's global state (it would leak between
calendars): they live in this object only.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

import jpholiday

from portal.rules.types import ClosureRule, Msg, SkippedDay

_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# English names of the national holidays jpholiday reports in Japanese.
_HOLIDAY_EN = {
    "元日": "New Year's Day",
    "成人の日": "Coming of Age Day",
    "建国記念の日": "National Foundation Day",
    "天皇誕生日": "Emperor's Birthday",
    "春分の日": "Vernal Equinox Day",
    "昭和の日": "Showa Day",
    "みどりの日": "Greenery Day",
    "憲法記念日": "Constitution Memorial Day",
    "こどもの日": "Children's Day",
    "海の日": "Marine Day",
    "山の日": "Mountain Day",
    "敬老の日": "Respect for the Aged Day",
    "秋分の日": "Autumnal Equinox Day",
    "体育の日": "Health and Sports Day",
    "スポーツの日": "Sports Day",
    "文化の日": "Culture Day",
    "勤労感謝の日": "Labour Thanksgiving Day",
    "国民の休日": "Citizens' Holiday (国民の休日)",
    "振替休日": "substitute holiday (振替休日)",
}


def weekday_ja(d: date) -> str:
    return _WEEKDAYS_JA[d.weekday()]


def format_day(d: date) -> Msg:
    """``2026-12-08 (火)`` / ``Tue 2026-12-08``."""
    return _formatted_day(d)


@lru_cache(maxsize=4096)
def _formatted_day(d: date) -> Msg:
    """:func:`format_day`, remembered: every explanation names a few days, the same ones
    over and over."""
    return Msg(f"{d.isoformat()}({weekday_ja(d)})", f"{_WEEKDAYS_EN[d.weekday()]} {d.isoformat()}")


def _holiday_name_en(name_ja: str) -> str:
    return " ".join(_HOLIDAY_EN.get(part, part) for part in name_ja.split())


@lru_cache(maxsize=256)
def _national_holidays(year: int) -> dict[int, Msg]:
    """National holidays of ``year`` by ordinal (jpholiday is asked once per year)."""
    return {
        d.toordinal(): Msg(name, _holiday_name_en(name))
        for d, name in jpholiday.year_holidays(year)
    }


def _weekend_reason(d: date) -> Msg | None:
    if d.weekday() == 5:
        return Msg("土曜日", "Saturday")
    if d.weekday() == 6:
        return Msg("日曜日", "Sunday")
    return None


def _closure_days(rule: ClosureRule, year: int) -> Iterable[date]:
    """The days of ``rule`` that fall in ``year``."""
    if not rule.yearly:
        start, end = max(rule.start, date(year, 1, 1)), min(rule.end, date(year, 12, 31))
        while start <= end:
            yield start
            start += timedelta(days=1)
        return
    wraps = (rule.end.month, rule.end.day) < (rule.start.month, rule.start.day)
    # An occurrence starting in the previous year may reach into this one when it wraps.
    for first_year in ((year - 1, year) if wraps else (year,)):
        start = _safe_date(first_year, rule.start.month, rule.start.day)
        end = _safe_date(first_year + (1 if wraps else 0), rule.end.month, rule.end.day)
        if start is None or end is None:
            continue  # 29 Feb in a common year
        day = start
        while day <= end:
            if day.year == year:
                yield day
            day += timedelta(days=1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _year_table(closures: tuple[ClosureRule, ...], year: int) -> tuple[list[int], dict[int, Msg]]:
    """The business-day ordinals of ``year`` and the reason of every other day, built once
    per process for each set of closure days (calendars with the same closures share them;
    callers never mutate the result)."""
    off: dict[int, Msg] = {}
    for rule in closures:
        for d in _closure_days(rule, year):
            off.setdefault(d.toordinal(), rule.label)
    for ordinal, name in _national_holidays(year).items():
        off.setdefault(ordinal, Msg(f"祝日({name.ja})", f"national holiday ({name.en})"))
    business: list[int] = []
    for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        if ordinal in off:
            continue
        reason = _weekend_reason(date.fromordinal(ordinal))
        if reason is not None:
            off[ordinal] = reason
        else:
            business.append(ordinal)
    return business, off


@dataclass(frozen=True)
class Shift:
    """The result of counting business days: the day reached and what was skipped."""

    day: date
    skipped: tuple[SkippedDay, ...]

    def skipped_text(self, lang: str = "ja") -> str:
        if not self.skipped:
            return "なし" if lang != "en" else "none"
        parts = [f"{format_day(s.day).text(lang)} {s.reason.text(lang)}" for s in self.skipped]
        return ("、" if lang != "en" else ", ").join(parts)

    def skipped_msg(self) -> Msg:
        return Msg(self.skipped_text("ja"), self.skipped_text("en"))


class BusinessCalendar:
    """Business days for one provider: weekends, national holidays and its closures."""

    def __init__(self, closures: Iterable[ClosureRule] = ()):
        self.closures: tuple[ClosureRule, ...] = tuple(closures)
        self._years: dict[int, tuple[list[int], dict[int, Msg]]] = {}

    # ----------------------------------------------------------------- per-year tables
    def _year(self, year: int) -> tuple[list[int], dict[int, Msg]]:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = _year_table(self.closures, year)
        return table

    # ----------------------------------------------------------------- queries
    def reason_closed(self, d: date) -> Msg | None:
        """Why ``d`` is not a business day (closure, holiday, weekend), or None."""
        return self._year(d.year)[1].get(d.toordinal())

    def is_business_day(self, d: date) -> bool:
        return self.reason_closed(d) is None

    def holiday_name(self, d: date) -> Msg | None:
        """The national holiday on ``d`` (祝日, 振替休日, 国民の休日), or None."""
        return _national_holidays(d.year).get(d.toordinal())

    def closure_reason(self, d: date) -> Msg | None:
        """The provider closure covering ``d`` (not weekends or holidays), or None."""
        for rule in self.closures:
            if any(day == d for day in _closure_days(rule, d.year)):
                return rule.label
        return None

    def business_days_before(self, d: date, n: int) -> Shift:
        """The ``n``-th business day strictly before ``d`` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        year, target = d.year, d.toordinal()
        remaining = n
        while True:
            business, _ = self._year(year)
            pos = bisect_left(business, target)
            if pos >= remaining:
                found = date.fromordinal(business[pos - remaining])
                return Shift(found, self._skipped(found, d))
            remaining -= pos
            year -= 1
            target = date(year, 12, 31).toordinal() + 1

    def business_days_after(self, d: date, n: int) -> Shift:
        """The ``n``-th business day strictly after ``d`` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        year, target = d.year, d.toordinal()
        remaining = n
        while True:
            business, _ = self._year(year)
            pos = bisect_right(business, target)
            available = len(business) - pos
            if available >= remaining:
                found = date.fromordinal(business[pos + remaining - 1])
                return Shift(found, self._skipped(d, found))
            remaining -= available
            year += 1
            target = date(year, 1, 1).toordinal() - 1

    def business_day_on_or_before(self, d: date) -> Shift:
        if self.is_business_day(d):
            return Shift(d, ())
        return self.business_days_before(d, 1)

    def business_day_on_or_after(self, d: date) -> Shift:
        if self.is_business_day(d):
            return Shift(d, ())
        return self.business_days_after(d, 1)

    def count_business_days(self, start: date, end: date) -> int:
        """Business days in the half-open range [start, end)."""
        total = 0
        for year in range(start.year, end.year + 1):
            business, _ = self._year(year)
            total += bisect_left(business, end.toordinal()) - bisect_left(business, start.toordinal())
        return total

    def _skipped(self, low: date, high: date) -> tuple[SkippedDay, ...]:
        """Non-business days strictly between ``low`` and ``high``."""
        skipped = []
        for ordinal in range(low.toordinal() + 1, high.toordinal()):
            reason = self._year(date.fromordinal(ordinal).year)[1].get(ordinal)
            if reason is not None:
                skipped.append(SkippedDay(date.fromordinal(ordinal), reason))
        return tuple(skipped)
