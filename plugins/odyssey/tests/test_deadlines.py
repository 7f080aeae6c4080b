"""ODY-DL-1/2/3/4 and ODY-LA through the rules API and the pure functions."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from portal.business_days import BusinessCalendar
from portal.rules import JST, ClosureRule, Msg, RuleRefusal

from plugins.odyssey import deadlines
from plugins.odyssey.plugin import INFO


def _deadlines(post, exam_start: str, **extra):
    status, body = post("deadlines", {"exam_start": exam_start, **extra})
    assert status == 200, body
    return {d["kind"]: d for d in body["deadlines"]}


# The manual's own examples (3.1.2, 3.1.3, 3.1.4), years inferred from the printed weekdays.
MANUAL_EXAMPLES = [
    ("2021-02-25", "2021-02-19"),  # 2021-02-23 天皇誕生日 skipped
    ("2021-03-25", "2021-03-22"),
    ("2018-03-29", "2018-03-26"),
    ("2018-02-28", "2018-02-23"),  # 2/23 was not a holiday yet in 2018
    ("2018-01-14", "2018-01-10"),  # Sunday exam: no extra day
    ("2018-01-13", "2018-01-10"),  # Saturday exam: same deadline as Sunday's
]


@pytest.mark.parametrize("exam, deadline", MANUAL_EXAMPLES)
def test_manual_application_and_payment_deadlines(post, exam, deadline):
    d = _deadlines(post, f"{exam}T10:00:00+09:00")
    assert d["application"]["at"] == f"{deadline}T23:59:59+09:00"
    assert d["payment"]["at"] == f"{deadline}T23:59:59+09:00"
    assert d["application"]["rule"] == "ODY-DL-1"
    assert d["payment"]["rule"] == "ODY-DL-2"


def test_explanation_names_the_skipped_holiday(post):
    d = _deadlines(post, "2021-02-25T10:00:00+09:00")
    assert "2021-02-23(火) 祝日(天皇誕生日)" in d["application"]["explanation"]
    status, body = post("deadlines", {"exam_start": "2021-02-25T10:00:00+09:00"}, lang="en")
    assert "Emperor's Birthday" in body["deadlines"][0]["explanation"]


def test_every_kind_of_the_contract_is_answered(post):
    d = _deadlines(post, "2021-02-25T14:00:00+09:00")
    assert set(d) == {"application", "payment", "late_addition", "self_exam_request"} == set(INFO.deadline_kinds)


def test_self_exam_request_is_five_business_days_before(post):
    # 2/24 (1), 2/23 holiday, 2/22 (2), weekend, 2/19 (3), 2/18 (4), 2/17 (5)
    d = _deadlines(post, "2021-02-25T10:00:00+09:00")
    assert d["self_exam_request"]["at"] == "2021-02-17T23:59:59+09:00"
    assert d["self_exam_request"]["rule"] == "ODY-DL-4"


@pytest.mark.parametrize("exam_start, expected", [
    ("2020-09-16T14:00:00+09:00", "2020-09-16T12:00:00+09:00"),  # afternoon exam on a business day
    ("2020-09-16T13:00:00+09:00", "2020-09-16T12:00:00+09:00"),  # 13:00: the 12–13 window fits (3.4.1)
    ("2020-09-16T10:00:00+09:00", "2020-09-15T12:00:00+09:00"),  # morning exam: previous day 12:00
    ("2020-09-16T12:59:00+09:00", "2020-09-15T12:00:00+09:00"),
    ("2020-09-14T10:00:00+09:00", "2020-09-11T12:00:00+09:00"),  # Monday morning → Friday
    ("2020-09-22T14:00:00+09:00", "2020-09-18T12:00:00+09:00"),  # 秋分の日; 9/21 敬老の日 and weekend skipped
    ("2020-09-13T15:00:00+09:00", "2020-09-11T12:00:00+09:00"),  # Sunday afternoon: no weekend processing
])
def test_late_addition_deadline(post, exam_start, expected):
    d = _deadlines(post, exam_start)
    assert d["late_addition"]["at"] == expected
    assert d["late_addition"]["rule"] == "ODY-LA"


def test_late_addition_names_the_skipped_days(post):
    d = _deadlines(post, "2020-09-22T14:00:00+09:00")
    text = d["late_addition"]["explanation"]
    assert "敬老の日" in text and "2020-09-18(金)" in text


def test_strict_13_setting_moves_a_13_00_exam_to_the_previous_day():
    cal = BusinessCalendar()
    start = datetime(2020, 9, 16, 13, 0, tzinfo=JST)
    assert deadlines.late_addition_deadline(cal, start, strict_13=True).at == datetime(2020, 9, 15, 12, 0, tzinfo=JST)


def test_manual_late_addition_example_saturday_request_processed_monday():
    """3.4.2 注意4: a request made Sat 9/12 for a Wed 9/16 exam is processed Mon 9/14 noon:
    the previous business day of the Saturday's request is never used; Monday is the next processing."""
    cal = BusinessCalendar()
    assert cal.business_day_on_or_after(date(2020, 9, 12)).day == date(2020, 9, 14)
    d = deadlines.late_addition_deadline(cal, datetime(2020, 9, 16, 10, 0, tzinfo=JST))
    assert d.at > datetime(2020, 9, 14, 12, 0, tzinfo=JST)  # the Saturday request is in time


@pytest.mark.parametrize("exam, deadline, skipped", [
    ("2025-05-07", "2025-04-30", "振替休日"),        # GW: 5/6 振替休日, 5/3–5/5 holidays and weekend
    ("2024-01-09", "2023-12-28", "年末年始"),        # year boundary + company closure + 成人の日
    ("2024-03-01", "2024-02-27", None),             # leap year: 2/29 counted as a business day
    ("2019-05-07", "2019-04-24", "国民の休日"),      # 2019 10-day GW (国民の休日 4/30, 5/2)
    ("2026-09-24", "2026-09-16", "国民の休日"),      # Silver Week 2026: 9/22 国民の休日
])
def test_edge_cases(post, exam, deadline, skipped):
    d = _deadlines(post, f"{exam}T10:00:00+09:00")
    assert d["application"]["at"] == f"{deadline}T23:59:59+09:00"
    if skipped:
        assert skipped in d["application"]["explanation"]


@pytest.mark.parametrize("day", ["2024-12-29", "2024-12-31", "2025-01-01", "2025-01-03"])
def test_exam_on_a_closure_day_is_refused_with_the_reason(post, day):
    status, body = post("deadlines", {"exam_start": f"{day}T10:00:00+09:00"})
    assert status == 422
    assert body["error"]["code"] == "exam_day_not_allowed"
    assert body["error"]["field"] == "exam_start"
    assert "年末年始" in body["error"]["message"] and "ODY-DL-3" in body["error"]["message"]


def test_weekend_and_holiday_exams_are_allowed(post):
    """2.1: exam days are free (the manual's examples include a Saturday and a Sunday)."""
    for day in ("2018-01-13", "2018-01-14", "2021-02-23"):
        status, _ = post("deadlines", {"exam_start": f"{day}T10:00:00+09:00"})
        assert status == 200


def test_designated_closure_refuses_and_shifts():
    cal = BusinessCalendar([ClosureRule(date(2024, 6, 5), date(2024, 6, 5), Msg("サーバーメンテナンス", "maintenance"))])
    with pytest.raises(RuleRefusal):
        deadlines.check_exam_day(cal, date(2024, 6, 5))
    # A closure between the deadline and the exam is skipped in the count.
    assert deadlines.application_deadline(cal, date(2024, 6, 7)).at.date() == date(2024, 6, 3)


def test_exam_code_is_checked_when_given(post):
    assert post("deadlines", {"exam_start": "2021-02-25T10:00:00+09:00", "exam": "NOPE"})[0] == 404
    assert post("deadlines", {"exam_start": "2021-02-25T10:00:00+09:00", "exam": "MOS"})[0] == 200
    assert post("deadlines", {"exam_start": "2021-02-25T10:00:00+09:00", "exam": "VBA-EXCEL-BASIC"})[0] == 200


@pytest.mark.parametrize("body", [{}, {"exam_start": "yesterday"}, {"exam_start": 5}])
def test_bad_input_is_400(post, body):
    status, answer = post("deadlines", body)
    assert status == 400 and answer["error"]["field"] == "exam_start"


def test_other_offsets_are_answered_in_japan_time(post):
    # 2021-02-25 01:00 JST sent as UTC the day before.
    d = _deadlines(post, "2021-02-24T16:00:00Z")
    assert d["application"]["at"] == "2021-02-19T23:59:59+09:00"


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 10), max_value=date(2099, 12, 20)))
def test_deadline_invariants(day):
    """Three business days lie strictly between the deadline day and the exam (exclusive)."""
    cal = BusinessCalendar(INFO.closure_defaults)
    app = deadlines.application_deadline(cal, day).at.date()
    selfx = deadlines.self_exam_request_deadline(cal, day).at.date()
    assert app < day and selfx < app
    assert cal.is_business_day(app) and cal.is_business_day(selfx)
    assert cal.count_business_days(app + timedelta(days=1), day) == 2
    assert cal.count_business_days(selfx, app) == 2
