"""IPA-CH-1 (change deadline, calendar days) and IPA-CH-2/3 (last selectable exam date)."""
from datetime import date, datetime

import pytest

from plugins.cbt_ipa.change_window import (
    booked_inside_lock, change_deadline, deadline_explanation, last_selectable_date,
)
from plugins.cbt_ipa.tests.helpers import ctx, jst


@pytest.mark.parametrize("exam_start, last_moment", [
    # IPA-CH-1: "試験日の3日前まで": through the end of the 3rd calendar day before.
    (jst(2026, 4, 10, 10), jst(2026, 4, 7, 23, 59, 59)),
    # weekends and holidays are calendar days like any other (Sat/Sun before a Monday exam)
    (jst(2026, 5, 11, 9), jst(2026, 5, 8, 23, 59, 59)),
    # month end
    (jst(2026, 3, 2, 10), jst(2026, 2, 27, 23, 59, 59)),
    # leap year: 29 Feb is a day
    (jst(2028, 3, 2, 10), jst(2028, 2, 28, 23, 59, 59)),
    (jst(2028, 3, 3, 10), jst(2028, 2, 29, 23, 59, 59)),
    # year boundary
    (jst(2027, 1, 2, 13, 30), jst(2026, 12, 30, 23, 59, 59)),
    # an exam late in the evening: the date counts, not 72 hours
    (jst(2026, 4, 10, 23, 30), jst(2026, 4, 7, 23, 59, 59)),
])
def test_change_deadline_is_end_of_third_calendar_day_before(exam_start, last_moment):
    assert change_deadline(exam_start) == last_moment


def test_exam_start_in_another_offset_is_read_in_japan_time():
    from datetime import timezone
    # 2026-04-09 16:00 UTC is 2026-04-10 01:00 JST: the exam date is the 10th.
    assert change_deadline(datetime(2026, 4, 9, 16, 0, tzinfo=timezone.utc)) == jst(2026, 4, 7, 23, 59, 59)


@pytest.mark.parametrize("booked_at, locked", [
    (jst(2026, 4, 7, 23, 59, 59), False),  # D-3, last second: still a changeable booking
    (jst(2026, 4, 8, 0, 0), True),         # D-2: booked for an exam within 2 days
    (jst(2026, 4, 10, 8, 0), True),        # exam day
])
def test_booking_made_within_two_days_is_locked(booked_at, locked):
    assert booked_inside_lock(booked_at, jst(2026, 4, 10, 10)) is locked


def test_explanation_names_the_deadline_and_the_holidays_counted():
    # Exam Thu 2026-05-07: D-3 is Mon 05-04 (みどりの日); 05-05 こどもの日, 05-06 振替休日 count too.
    msg = deadline_explanation(ctx().calendar, jst(2026, 5, 7, 10))
    assert "2026-05-04(月) 23:59:59" in msg.ja
    assert "2026-05-05(火)" in msg.ja and "こどもの日" in msg.ja and "振替休日" in msg.ja
    assert "IPA-CH-1" in msg.ja
    assert "Mon 2026-05-04" in msg.en and "substitute holiday" in msg.en


def test_explanation_of_a_year_end_exam_counts_new_year():
    msg = deadline_explanation(ctx().calendar, jst(2027, 1, 3, 10))
    assert "2026-12-31(木) 23:59:59" in msg.ja
    assert "元日" in msg.ja


# --------------------------------------------------------------------------- IPA-CH-2/3

@pytest.mark.parametrize("first, last", [
    (date(2026, 4, 1), date(2027, 4, 1)),     # same calendar date a year later
    (date(2028, 2, 29), date(2029, 2, 28)),   # 29 Feb → 28 Feb
    (date(2027, 2, 28), date(2028, 2, 28)),   # into a leap year: still the same date
    (date(2026, 12, 31), date(2027, 12, 31)), # year end
])
def test_last_selectable_date_is_first_application_plus_one_year(first, last):
    answer = last_selectable_date(first)
    assert answer.day == last
    assert answer.rule == "IPA-CH-2"
    assert last.isoformat() in answer.explanation.ja


def test_leap_day_is_explained():
    answer = last_selectable_date(date(2028, 2, 29))
    assert "2月28日" in answer.explanation.ja and "28 February" in answer.explanation.en


def test_voucher_issue_date_replaces_the_first_application():
    answer = last_selectable_date(date(2026, 6, 1), voucher_issued_on=date(2026, 1, 15))
    assert answer.day == date(2027, 1, 15)
    assert "バウチャー発行日" in answer.explanation.ja


def test_exemption_ending_earlier_sets_the_last_date():
    answer = last_selectable_date(date(2026, 4, 1), exemption_valid_until=date(2026, 9, 30))
    assert answer.day == date(2026, 9, 30)
    assert answer.rule == "IPA-CH-2,IPA-CH-3"
    assert "科目A免除" in answer.explanation.ja


def test_exemption_never_extends_past_one_year():
    answer = last_selectable_date(date(2026, 4, 1), exemption_valid_until=date(2027, 9, 30))
    assert answer.day == date(2027, 4, 1)
    assert answer.rule == "IPA-CH-2,IPA-CH-3"


def test_exemption_with_voucher_takes_the_earlier_of_the_two():
    assert last_selectable_date(None, date(2026, 1, 15), date(2027, 3, 31)).day == date(2027, 1, 15)
    assert last_selectable_date(None, date(2026, 1, 15), date(2026, 3, 31)).day == date(2026, 3, 31)
