"""Business-day calendar: weekends, national holidays (振替休日, 国民の休日), closures."""
from datetime import date, timedelta

import jpholiday
import pytest
from hypothesis import given, settings, strategies as st

from portal.business_days import BusinessCalendar
from portal.rules import ClosureRule, Msg

NEW_YEAR = ClosureRule(date(2000, 12, 29), date(2001, 1, 3), Msg("年末年始休業", "year-end closure"), yearly=True)
plain = BusinessCalendar()
prometric_like = BusinessCalendar([NEW_YEAR])


def test_weekends_and_holidays_are_not_business_days():
    assert not plain.is_business_day(date(2026, 12, 12))  # Saturday
    assert not plain.is_business_day(date(2026, 12, 13))  # Sunday
    assert not plain.is_business_day(date(2026, 11, 23))  # 勤労感謝の日 (Monday)
    assert plain.is_business_day(date(2026, 11, 24))


def test_substitute_holiday_and_citizens_holiday():
    # 2026-05-03 憲法記念日 is a Sunday → 振替休日 on Wed 05-06.
    assert plain.reason_closed(date(2026, 5, 6)).ja == "祝日(憲法記念日 振替休日)"
    # 2026-09-22 sits between 敬老の日 and 秋分の日 → 国民の休日.
    assert "国民の休日" in plain.reason_closed(date(2026, 9, 22)).ja
    assert "Citizens" in plain.reason_closed(date(2026, 9, 22)).en


def test_count_back_over_golden_week_reports_skipped_days():
    shift = plain.business_days_before(date(2026, 5, 7), 3)
    assert shift.day == date(2026, 4, 28)
    skipped = [s.day for s in shift.skipped]
    assert skipped == [date(2026, 4, 29), date(2026, 5, 2), date(2026, 5, 3), date(2026, 5, 4),
                       date(2026, 5, 5), date(2026, 5, 6)]
    assert "昭和の日" in shift.skipped_text("ja") and "Showa Day" in shift.skipped_text("en")


def test_yearly_closure_wraps_over_new_year():
    for d in (date(2026, 12, 29), date(2026, 12, 31), date(2027, 1, 2), date(2027, 1, 3)):
        assert prometric_like.reason_closed(d) is not None
    assert prometric_like.is_business_day(date(2027, 1, 4))
    # Dec 28 2026 is a Monday: still a business day.
    assert prometric_like.is_business_day(date(2026, 12, 28))
    shift = prometric_like.business_days_before(date(2027, 1, 5), 1)
    assert shift.day == date(2027, 1, 4)
    shift = prometric_like.business_days_before(date(2027, 1, 4), 1)
    assert shift.day == date(2026, 12, 28)
    assert [s.reason.ja for s in shift.skipped].count("年末年始休業") == 6


def test_closures_do_not_leak_into_jpholiday_or_other_calendars():
    BusinessCalendar([ClosureRule(date(2026, 6, 10), date(2026, 6, 10), Msg("臨時休業", "closed"))])
    assert not jpholiday.is_holiday(date(2026, 6, 10))
    assert plain.is_business_day(date(2026, 6, 10))


def test_single_day_closure_and_leap_day_yearly_rule():
    leap = BusinessCalendar([ClosureRule(date(2000, 2, 29), date(2000, 2, 29), Msg("閏日", "leap day"), yearly=True)])
    assert not leap.is_business_day(date(2028, 2, 29))  # Tuesday, leap year
    assert leap.is_business_day(date(2027, 3, 1))  # common year: the rule has no day


def test_count_forward_across_year_end():
    shift = prometric_like.business_days_after(date(2026, 12, 28), 1)
    assert shift.day == date(2027, 1, 4)
    assert prometric_like.count_business_days(date(2026, 12, 28), date(2027, 1, 5)) == 2


def test_n_must_be_positive():
    with pytest.raises(ValueError):
        plain.business_days_before(date(2026, 1, 5), 0)


def _slow_is_business(d: date, cal: BusinessCalendar) -> bool:
    """Reference: day-by-day, straight from jpholiday and the closure rule."""
    if d.weekday() >= 5 or jpholiday.is_holiday(d):
        return False
    return not (cal is prometric_like and ((d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3)))


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=300, deadline=None)
@given(d=days, n=st.integers(min_value=1, max_value=30), cal=st.sampled_from([plain, prometric_like]))
def test_counting_back_matches_a_day_by_day_reference(d, n, cal):
    shift = cal.business_days_before(d, n)
    day, counted = d, 0
    while counted < n:
        day -= timedelta(days=1)
        if _slow_is_business(day, cal):
            counted += 1
    assert shift.day == day
    assert cal.is_business_day(shift.day)
    # Every day strictly between is either skipped (reported) or one of the n-1 counted.
    between = (d - shift.day).days - 1
    assert len(shift.skipped) + (n - 1) == between


@settings(max_examples=200, deadline=None)
@given(d=days, n=st.integers(min_value=1, max_value=30))
def test_forward_and_back_are_inverse_on_business_days(d, n):
    start = prometric_like.business_day_on_or_after(d).day
    there = prometric_like.business_days_after(start, n).day
    assert prometric_like.business_days_before(there, n).day == start
