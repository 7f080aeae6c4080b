"""Change (IPA-CH-1..4), cancellation (IPA-CA) and payment lapse (IPA-PAY) decisions."""
from datetime import date

import pytest

from portal.rules import BadInput, MissingFact, Payment, RuleRefusal, UnknownExam

from plugins.cbt_ipa.policy import policy, voucher_usable
from plugins.cbt_ipa.tests.helpers import ctx, facts, jst


def test_change_allowed_until_the_deadline_with_the_last_selectable_date():
    d = policy(ctx(), facts(at=jst(2026, 4, 17, 23, 59, 59)))
    assert d.change.allowed
    assert d.change.until == jst(2026, 4, 17, 23, 59, 59)
    assert d.change.last_selectable_date == date(2027, 3, 30)
    assert d.change.rule == "IPA-CH-1,IPA-CH-2,IPA-CH-4"
    assert "2027-03-30" in d.change.explanation.ja and "空席" in d.change.explanation.ja


def test_change_refused_from_two_days_before():
    d = policy(ctx(), facts(at=jst(2026, 4, 18, 0, 0)))
    assert not d.change.allowed
    assert d.change.rule == "IPA-CH-1"
    assert d.change.until == jst(2026, 4, 17, 23, 59, 59)
    assert "変更期限" in d.change.explanation.ja and "2026-04-17(金)" in d.change.explanation.ja


def test_booking_made_on_d_minus_2_never_changes_even_asked_at_once():
    d = policy(ctx(), facts(exam_start=jst(2026, 4, 20, 10), booked_at=jst(2026, 4, 18, 9),
                            first_booked_at=jst(2026, 4, 18, 9), at=jst(2026, 4, 18, 9, 5)))
    assert not d.change.allowed
    assert d.change.until is None
    assert "2日前以降" in d.change.explanation.ja and "never" in d.change.explanation.en


def test_changed_booking_keeps_first_application_year():
    # A booking changed several times: the year counts from the first application (IPA-CH-2).
    d = policy(ctx(), facts(first_booked_at=jst(2025, 5, 1, 10), booked_at=jst(2026, 3, 1, 10),
                            at=jst(2026, 4, 2, 9), target_exam_start=jst(2026, 5, 2, 10)))
    assert not d.change.allowed
    assert d.change.last_selectable_date == date(2026, 5, 1)
    assert d.change.rule == "IPA-CH-2"
    assert "2026-05-02" in d.change.explanation.ja


def test_target_on_the_last_selectable_date_is_allowed():
    d = policy(ctx(), facts(first_booked_at=jst(2025, 5, 1, 10), target_exam_start=jst(2026, 5, 1, 17)))
    assert d.change.allowed


def test_last_selectable_date_passed_leaves_nothing_to_choose():
    d = policy(ctx(), facts(first_booked_at=jst(2025, 3, 1, 10), exam_start=jst(2026, 3, 1, 10), at=jst(2026, 3, 2, 9)))
    assert not d.change.allowed  # deadline long passed too, so IPA-CH-1 speaks first
    d = policy(ctx(), facts(first_booked_at=jst(2025, 3, 1, 10), exam_start=jst(2026, 6, 1, 10), at=jst(2026, 3, 2, 9)))
    assert not d.change.allowed and d.change.rule == "IPA-CH-2"


def test_leap_day_first_application():
    d = policy(ctx(), facts(first_booked_at=jst(2028, 2, 29, 10), exam_start=jst(2028, 6, 1, 10),
                            at=jst(2028, 3, 1, 9), target_exam_start=jst(2029, 2, 28, 10)))
    assert d.change.allowed and d.change.last_selectable_date == date(2029, 2, 28)
    d = policy(ctx(), facts(first_booked_at=jst(2028, 2, 29, 10), exam_start=jst(2028, 6, 1, 10),
                            at=jst(2028, 3, 1, 9), target_exam_start=jst(2029, 3, 1, 10)))
    assert not d.change.allowed


def test_voucher_booking_counts_from_the_issue_date():
    d = policy(ctx(), facts(payment=Payment("voucher", True), voucher_issued_on=date(2025, 6, 1),
                            target_exam_start=jst(2026, 6, 2, 10)))
    assert not d.change.allowed and d.change.last_selectable_date == date(2026, 6, 1)
    assert "バウチャー発行日" in d.change.explanation.ja


def test_voucher_booking_needs_the_issue_date():
    with pytest.raises(MissingFact) as exc:
        policy(ctx(), facts(payment=Payment("voucher", True)))
    assert exc.value.field == "voucher_issued_on"


def test_fe_exemption_limits_the_target():
    d = policy(ctx(), facts(exemption_valid_until=date(2026, 6, 30), target_exam_start=jst(2026, 7, 1, 10)))
    assert not d.change.allowed and d.change.rule == "IPA-CH-2,IPA-CH-3"
    assert d.change.last_selectable_date == date(2026, 6, 30)


def test_exemption_is_fe_only():
    with pytest.raises(BadInput) as exc:
        policy(ctx(), facts(exam="SG", exemption_valid_until=date(2026, 6, 30)))
    assert exc.value.field == "exemption_valid_until"


def test_no_free_seat_at_the_target_refuses_the_change():
    d = policy(ctx(), facts(target_exam_start=jst(2026, 5, 10, 10), raw={"target_seat_available": False}))
    assert not d.change.allowed and d.change.rule == "IPA-CH-4"
    d = policy(ctx(), facts(target_exam_start=jst(2026, 5, 10, 10), raw={"target_seat_available": True}))
    assert d.change.allowed


def test_target_in_the_past_is_refused():
    with pytest.raises(RuleRefusal):
        policy(ctx(), facts(target_exam_start=jst(2026, 3, 1, 10)))


def test_cancel_is_never_allowed_and_nothing_is_refunded():
    for method, paid in (("credit_card", True), ("convenience_store", True), ("voucher", True), ("pay_easy", False)):
        d = policy(ctx(), facts(payment=Payment(method, paid, 7500), voucher_issued_on=date(2026, 1, 1)))
        assert not d.cancel.allowed and d.cancel.refund is None and d.cancel.until is None
        assert d.cancel.rule.startswith("IPA-CA")


def test_unpaid_store_booking_lapses_after_the_due_date():
    pay = Payment("convenience_store", False, 7500, jst(2026, 4, 3, 23, 59))
    d = policy(ctx(), facts(payment=pay, at=jst(2026, 4, 3, 23, 59)))
    assert d.lapse is not None and not d.lapse.lapsed and d.change.allowed
    d = policy(ctx(), facts(payment=pay, at=jst(2026, 4, 4, 0, 0)))
    assert d.lapse.lapsed and d.lapse.rule == "IPA-PAY"
    assert not d.change.allowed and d.change.rule == "IPA-PAY"


def test_paid_store_booking_has_no_lapse():
    d = policy(ctx(), facts(payment=Payment("pay_easy", True, 7500, jst(2026, 4, 3, 23, 59)), at=jst(2026, 4, 5)))
    assert d.lapse is None


def test_missing_facts_name_the_field():
    for missing in ("exam_start", "payment"):
        with pytest.raises(MissingFact) as exc:
            policy(ctx(), facts(**{missing: None}))
        assert exc.value.field == missing
    with pytest.raises(MissingFact) as exc:
        policy(ctx(), facts(first_booked_at=None))
    assert exc.value.field == "first_booked_at"


def test_booked_at_stands_in_for_first_booked_at():
    d = policy(ctx(), facts(first_booked_at=None, booked_at=jst(2026, 3, 30, 12)))
    assert d.change.last_selectable_date == date(2027, 3, 30)


def test_unknown_exam():
    with pytest.raises(UnknownExam):
        policy(ctx(), facts(exam="AP"))


def test_voucher_usable_until_its_expiry_day():
    assert voucher_usable(date(2026, 4, 30), date(2026, 4, 30))
    assert not voucher_usable(date(2026, 4, 30), date(2026, 5, 1))
    assert voucher_usable(None, date(2030, 1, 1))


def test_target_inside_its_own_change_lock_is_refused():
    # at Wed 2026-04-01 09:00: a target on Fri 04-03 is within 2 days (D-2 = 04-01)
    d = policy(ctx(), facts(target_exam_start=jst(2026, 4, 3, 10)))
    assert not d.change.allowed and d.change.rule == "IPA-CH-1"
    d = policy(ctx(), facts(target_exam_start=jst(2026, 4, 4, 10)))  # D-3 = 04-01: still open
    assert d.change.allowed
