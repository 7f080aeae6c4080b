"""IPA-RT-1 (apply after the booked exam's end) and IPA-RT-2 (previous exam date + 31 days)."""
from datetime import date, datetime, timedelta

from hypothesis import given, settings, strategies as st

from portal.rules import AttemptFact

from plugins.cbt_ipa.retake import first_retake_day, retake_decision
from plugins.cbt_ipa.tests.helpers import jst


def sat(y, m, d, outcome="failed", hour=10, minutes=200):
    start = jst(y, m, d, hour)
    return AttemptFact(start, start + timedelta(minutes=minutes), outcome)


LATER = jst(2040, 1, 1)


def test_rulebook_example_sat_april_1_retakes_from_may_2():
    r = retake_decision([sat(2026, 4, 1)], LATER)
    assert r.allowed and r.earliest == jst(2026, 5, 2)
    assert r.rule == "IPA-RT-1,IPA-RT-2"
    assert "2026-05-02(土)" in r.explanation.ja and "2026-04-01(水)" in r.explanation.ja


def test_pass_waits_as_long_as_fail():
    assert retake_decision([sat(2026, 4, 1, "passed")], LATER).earliest == jst(2026, 5, 2)


def test_absence_is_exempt_from_the_wait_but_not_from_the_end_time():
    r = retake_decision([sat(2026, 4, 1, "absent")], LATER)
    assert r.allowed and r.earliest == jst(2026, 4, 1, 13, 20)  # 10:00 + 200 min
    assert r.rule == "IPA-RT-1"
    assert "欠席" in r.explanation.ja and "IPA-RT-2" in r.explanation.ja


def test_later_absence_does_not_restart_the_wait():
    r = retake_decision([sat(2026, 3, 1), sat(2026, 4, 5, "absent")], LATER)
    assert r.earliest == jst(2026, 4, 5, 13, 20)  # 03-01 + 31 = 04-01, already before the absent exam's end
    r = retake_decision([sat(2026, 3, 20), sat(2026, 3, 25, "absent")], LATER)
    assert r.earliest == jst(2026, 4, 20)


def test_not_allowed_now_before_the_earliest_moment_but_the_moment_is_given():
    r = retake_decision([sat(2026, 4, 1)], jst(2026, 5, 1, 23, 59))
    assert not r.allowed and r.earliest == jst(2026, 5, 2)
    assert retake_decision([sat(2026, 4, 1)], jst(2026, 5, 2)).allowed


def test_no_attempt_no_wait():
    r = retake_decision([], LATER)
    assert r.allowed and r.earliest is None


def test_month_and_year_ends_and_leap_years():
    assert first_retake_day(date(2026, 1, 31)) == date(2026, 3, 3)
    assert first_retake_day(date(2028, 1, 31)) == date(2028, 3, 2)  # leap February
    assert first_retake_day(date(2026, 12, 15)) == date(2027, 1, 15)
    assert first_retake_day(date(2028, 2, 29)) == date(2028, 3, 31)


def test_late_evening_exam_counts_its_date():
    assert retake_decision([sat(2026, 4, 1, hour=20)], LATER).earliest == jst(2026, 5, 2)


attempts = st.lists(
    st.builds(
        lambda start, minutes, outcome: AttemptFact(start, start + timedelta(minutes=minutes), outcome),
        st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
            lambda d: d.replace(tzinfo=jst(2026, 1, 1).tzinfo)),
        st.integers(min_value=0, max_value=300),
        st.sampled_from(["passed", "failed", "absent"]),
    ),
    min_size=1, max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(attempts)
def test_retake_date_never_within_30_days_after_a_sitting(history):
    r = retake_decision(history, LATER)
    assert r.allowed
    for a in history:
        assert r.earliest >= a.end  # IPA-RT-1: never before a booked exam's end
        if a.outcome != "absent":
            assert (r.earliest.date() - a.start.date()).days > 30  # IPA-RT-2


@settings(max_examples=200, deadline=None)
@given(attempts)
def test_retake_is_the_first_possible_moment(history):
    r = retake_decision(history, LATER)
    sittings = [a.start.date() for a in history if a.outcome != "absent"]
    bounds = [max(a.end for a in history)]
    if sittings:
        bounds.append(jst(*(max(sittings) + timedelta(days=31)).timetuple()[:3]))
    assert r.earliest == max(bounds)
