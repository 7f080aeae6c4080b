"""Prometric rules PRM-* against the rulebook's example and our own edge cases."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from plugins.prometric import rules
from plugins.prometric.plugin import INFO
from portal.business_days import BusinessCalendar
from portal.providers import RuleContext
from portal.rules import JST, MissingFact, Payment, PolicyFacts

CTX = RuleContext(INFO, BusinessCalendar(INFO.closure_defaults), {}, tuple(INFO.exams))
HOLIDAY_CTX = RuleContext(INFO, BusinessCalendar(INFO.closure_defaults), {rules.SETTING_HOLIDAY_EXTRA_DAY: True}, tuple(INFO.exams))


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def deadline(exam_day: date, ctx=CTX) -> datetime:
    return rules.change_cancel_deadline(ctx, datetime(exam_day.year, exam_day.month, exam_day.day, 10, tzinfo=JST)).at


@pytest.mark.parametrize("exam_day, expected", [
    (date(2026, 12, 12), date(2026, 12, 8)),   # rulebook example: Sat → 4 business days → Tue
    (date(2026, 12, 13), date(2026, 12, 8)),   # Sunday: 4 business days too
    (date(2026, 12, 10), date(2026, 12, 7)),   # Thursday: 3 business days
    (date(2026, 12, 14), date(2026, 12, 9)),   # Monday: Fri, Thu, Wed
    (date(2027, 1, 5), date(2026, 12, 25)),    # 年末年始 Dec 29 – Jan 3 skipped
    (date(2027, 1, 9), date(2027, 1, 5)),      # Saturday after New Year: Fri 8, Thu 7, Wed 6, Tue 5
    (date(2027, 1, 6), date(2026, 12, 28)),    # Wed Jan 6: Tue 5, Mon 4, then Mon Dec 28 (Dec 29 – Jan 3 closed)
    (date(2026, 5, 7), date(2026, 4, 28)),     # Golden Week incl. 振替休日 05-06
    (date(2026, 5, 6), date(2026, 4, 28)),     # exam on the 振替休日 itself (weekday rule by default)
    (date(2026, 9, 24), date(2026, 9, 16)),    # Silver Week: 敬老の日 21, 国民の休日 22, 秋分の日 23
    (date(2028, 3, 1), date(2028, 2, 25)),     # leap year: Feb 29 2028 is a Tuesday business day
])
def test_change_and_cancel_deadline_prm_dl_1(exam_day, expected):
    got = deadline(exam_day)
    assert got == datetime(expected.year, expected.month, expected.day, 23, 59, tzinfo=JST)


def test_holiday_exam_gets_the_extra_day_only_with_the_setting():
    # Mon 2026-11-23 is 勤労感謝の日.
    assert deadline(date(2026, 11, 23)).date() == date(2026, 11, 18)
    assert deadline(date(2026, 11, 23), HOLIDAY_CTX).date() == date(2026, 11, 17)
    assert "祝日" in rules.change_cancel_deadline(HOLIDAY_CTX, at(2026, 11, 23)).explanation.ja


def test_explanation_names_skipped_days_and_rule():
    d = rules.deadlines(CTX, at(2027, 1, 5))
    assert {x.kind for x in d} == {"change", "cancel"}
    assert all(x.rule == "PRM-DL-1" for x in d)
    assert "年末年始休業" in d[0].explanation.ja and "2026-12-29" in d[0].explanation.ja
    assert "year-end" in d[0].explanation.en


def facts(**kw):
    base = dict(at=at(2026, 11, 23), exam="RUBY-SILVER", exam_start=at(2026, 12, 12),
                first_booked_at=at(2026, 11, 1), payment=Payment("credit_card", True, 16500))
    base.update(kw)
    return PolicyFacts(**base)


def test_unpaid_store_booking_cannot_change_but_can_cancel_prm_ch_1():
    p = rules.policy(CTX, facts(payment=Payment("convenience_store", False, 16500)))
    assert not p.change.allowed and p.change.rule == "PRM-CH-1"
    assert p.cancel.allowed and p.cancel.refund is None


@pytest.mark.parametrize("amount, fee", [(9_999, 242), (10_000, 314), (29_999, 314), (30_000, 419)])
def test_paid_store_refund_minus_fees_prm_ca_2(amount, fee):
    p = rules.policy(CTX, facts(payment=Payment("pay_easy", True, amount)))
    assert p.cancel.refund == amount - fee
    assert "PRM-CA-2" in p.cancel.rule
    ctx = RuleContext(INFO, CTX.calendar, {rules.SETTING_TRANSFER_FEE: 330}, CTX.exams)
    assert rules.policy(ctx, facts(payment=Payment("pay_easy", True, amount))).cancel.refund == amount - fee - 330


def test_paid_store_refund_needs_the_amount():
    with pytest.raises(Exception) as err:
        rules.policy(CTX, facts(payment=Payment("convenience_store", True, None)))
    assert err.value.field == "payment.amount"


def test_voucher_cancel_locks_the_voucher_24_hours_prm_ca_1():
    now = at(2026, 11, 23, 15, 30)
    p = rules.policy(CTX, facts(at=now, payment=Payment("voucher", True)))
    assert p.cancel.allowed and p.cancel.voucher_reusable_at == now + timedelta(hours=24)
    assert "PRM-CA-1" in p.cancel.rule


@pytest.mark.parametrize("now, needed", [(at(2026, 10, 31, 23, 0), False), (at(2026, 11, 1, 0, 0), True)])
def test_card_reauthorisation_after_30_days_prm_ch_4(now, needed):
    p = rules.policy(CTX, facts(at=now, first_booked_at=at(2026, 10, 1), exam_start=at(2026, 12, 12)))
    assert p.change.allowed
    assert ("card_reauthorization" in p.change.requires) is needed
    assert ("PRM-CH-4" in p.change.rule) is needed


def test_no_change_one_year_after_first_booking_prm_ch_2():
    first = at(2025, 11, 30)
    ok = rules.policy(CTX, facts(at=at(2026, 11, 30, 23, 0), first_booked_at=first, exam_start=at(2026, 12, 18)))
    assert ok.change.allowed and ok.change.until == datetime(2026, 11, 30, 23, 59, 59, tzinfo=JST)
    late = rules.policy(CTX, facts(at=at(2026, 12, 1, 0, 0), first_booked_at=first, exam_start=at(2026, 12, 18)))
    assert not late.change.allowed and late.change.rule == "PRM-CH-2"
    assert late.cancel.allowed  # cancel and book again


def test_one_year_from_leap_day_ends_on_28_february():
    assert rules.change_year_limit(at(2024, 2, 29)) == datetime(2025, 2, 28, 23, 59, 59, tzinfo=JST)


def test_after_the_deadline_nothing_changes_or_cancels():
    p = rules.policy(CTX, facts(at=at(2026, 12, 9, 0, 0)))
    assert not p.change.allowed and not p.cancel.allowed
    assert p.change.rule == p.cancel.rule == "PRM-DL-1"
    # The last minute is still allowed.
    assert rules.policy(CTX, facts(at=at(2026, 12, 8, 23, 59))).cancel.allowed


def test_subject_and_payment_method_never_change_prm_ch_3():
    p = rules.policy(CTX, facts())
    assert "PRM-CH-3" in p.change.rule and "支払方法" in p.change.explanation.ja


def test_unpaid_store_booking_lapses_after_due_prm_ca_3():
    due = at(2026, 11, 25, 23, 59)
    before = rules.policy(CTX, facts(at=at(2026, 11, 25, 12), payment=Payment("convenience_store", False, 16500, due)))
    after = rules.policy(CTX, facts(at=at(2026, 11, 26, 0, 0), payment=Payment("convenience_store", False, 16500, due)))
    assert before.lapse.lapsed is False and after.lapse.lapsed is True and after.lapse.rule == "PRM-CA-3"
    assert rules.policy(CTX, facts()).lapse is None


def test_missing_payment_fact_names_the_field():
    with pytest.raises(MissingFact) as err:
        rules.policy(CTX, facts(payment=None))
    assert err.value.field == "payment"


exam_days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(day=exam_days, holiday_rule=st.booleans())
def test_deadline_is_a_business_day_before_the_exam(day, holiday_rule):
    ctx = HOLIDAY_CTX if holiday_rule else CTX
    got = deadline(day, ctx)
    assert got.date() < day
    assert ctx.calendar.is_business_day(got.date())
    assert ctx.calendar.count_business_days(got.date() + timedelta(days=1), day) in (2, 3)


@settings(max_examples=300, deadline=None)
@given(a=exam_days, b=exam_days)
def test_later_exams_never_get_earlier_deadlines(a, b):
    first, second = sorted((a, b))
    assert deadline(first) <= deadline(second)
