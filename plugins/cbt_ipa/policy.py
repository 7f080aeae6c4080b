"""Change, cancellation and lapse of one IPA CBT booking (IPA-CH-*, IPA-CA, IPA-PAY)."""
from __future__ import annotations

from datetime import date, datetime

from portal.sdk import (
    BadInput, CancelDecision, ChangeDecision, LapseDecision, Msg, Payment, PolicyDecision, PolicyFacts,
    RuleRefusal, jst,
)
from portal.sdk.parse import bool_value

from plugins.cbt_ipa import text
from plugins.cbt_ipa.catalog import FE
from plugins.cbt_ipa.change_window import (
    LastSelectable, booked_inside_lock, change_deadline, deadline_explanation, last_selectable_date,
)

TARGET_SEAT_FACT = "target_seat_available"
"""Optional fact (IPA-CH-4): whether the date / venue asked for has a free seat."""


def last_selectable_for(facts: PolicyFacts, payment: Payment) -> LastSelectable:
    """IPA-CH-2/3 from a booking's facts (voucher issue date, first application, exemption)."""
    exemption = facts.exemption_valid_until
    if exemption is not None:
        exam = facts.need("exam")
        if exam != FE:
            raise BadInput("invalid_field", Msg(
                "exemption_valid_until: 科目A免除があるのは基本情報技術者試験(FE)だけです。",
                "exemption_valid_until: only FE has a subject A exemption."), "exemption_valid_until")
    if payment.method == "voucher":
        return last_selectable_date(None, facts.need("voucher_issued_on"), exemption)
    first = facts.first_booked_at or facts.booked_at
    if first is None:
        facts.need("first_booked_at")
    return last_selectable_date(jst(first).date(), None, exemption)


def lapse(facts: PolicyFacts, payment: Payment) -> LapseDecision | None:
    """IPA-PAY: a convenience-store / Pay-easy fee not paid by the due date voids the application."""
    if not payment.unpaid_store or payment.due is None:
        return None
    due = jst(payment.due)
    lapsed = jst(facts.at) > due
    return LapseDecision(lapsed, due, "IPA-PAY", Msg(
        f"コンビニ払い等の受験料を支払期限{text.moment(due).ja}までに確認できない場合、申込は成立せず自動的にキャンセルされます。"
        + ("支払期限を過ぎたため、この申込は無効です。" if lapsed else ""),
        f"A convenience-store / Pay-easy fee not received by its due date ({text.moment(due).en}) voids the application."
        + (" The due date has passed: this application is void." if lapsed else "")))


def _refused(until: datetime | None, rule: str, why: Msg, limit: LastSelectable) -> ChangeDecision:
    return ChangeDecision(False, until, rule, why, (), limit.day)


def _change(ctx, facts: PolicyFacts, exam_start: datetime, limit: LastSelectable,
            void: LapseDecision | None) -> ChangeDecision:
    at = jst(facts.at)
    deadline = change_deadline(exam_start)
    window = deadline_explanation(ctx.calendar, exam_start)
    if void is not None and void.lapsed:
        return _refused(None, "IPA-PAY", void.explanation, limit)
    if facts.booked_at is not None and booked_inside_lock(facts.booked_at, exam_start):
        return _refused(None, "IPA-CH-1", Msg(
            f"試験日の2日前以降({text.moment(facts.booked_at).ja})に申し込んだ試験のため、申込時点から変更できません。",
            f"This booking was made on {text.moment(facts.booked_at).en}, within 2 days of the exam, so it can never "
            "be changed.") + window, limit)
    if at > deadline:
        return _refused(deadline, "IPA-CH-1", Msg(
            f"変更期限{text.moment(deadline).ja}を過ぎています。", f"The change deadline ({text.moment(deadline).en}) has passed.")
            + window, limit)
    if limit.day < at.date():
        return _refused(deadline, limit.rule, Msg(
            f"選択できる最後の試験日{text.day(limit.day).ja}を過ぎているため、変更先に選べる試験日がありません。",
            f"The last selectable exam date ({text.day(limit.day).en}) has passed, so no exam date is left to move to.")
            + limit.explanation, limit)
    rules = ["IPA-CH-1", limit.rule, "IPA-CH-4"]
    seat = Msg("変更先の日時・会場に空席が必要です(IPA-CH-4)。", "The new date and venue need a free seat (IPA-CH-4).")
    target = facts.target_exam_start
    if target is not None:
        target_day = jst(target).date()
        if jst(target) <= at:
            raise RuleRefusal("target_in_past", Msg(
                "target_exam_start: 変更先の試験はすでに始まっています。", "target_exam_start: the new exam has already started."),
                "target_exam_start")
        if at > change_deadline(target):
            return _refused(deadline, "IPA-CH-1", Msg(
                f"変更先の試験日{text.day(target_day).ja}は2日後までの試験のため、変更先に選べません"
                "(2日前から当日までは申込内容を変更できません)。",
                f"The new exam date {text.day(target_day).en} is within 2 days, inside its own change lock, "
                "so the booking cannot be moved there."), limit)
        if target_day > limit.day:
            return _refused(deadline, limit.rule, Msg(
                f"変更先の試験日{text.day(target_day).ja}は選択できる最後の試験日より後です。",
                f"The new exam date {text.day(target_day).en} is after the last selectable date.") + limit.explanation, limit)
        if bool_value(facts.raw.get(TARGET_SEAT_FACT), TARGET_SEAT_FACT) is False:
            return _refused(deadline, "IPA-CH-4", Msg(
                f"変更先({text.moment(target).ja})に空席がないため変更できません(IPA-CH-4)。",
                f"The new date ({text.moment(target).en}) has no free seat, so the booking cannot be moved there (IPA-CH-4)."),
                limit)
        seat = Msg(f"変更先{text.moment(target).ja}は選択できます(空席が必要: IPA-CH-4)。",
                   f"The new date {text.moment(target).en} can be chosen (it needs a free seat: IPA-CH-4).")
    head = Msg(f"{text.moment(deadline).ja}まで会場・日時を変更できます。",
               f"The venue and date can be changed until {text.moment(deadline).en}.")
    return ChangeDecision(True, deadline, ",".join(dict.fromkeys(",".join(rules).split(","))),
                          Msg.join([head, limit.explanation, seat, window]), (), limit.day)


def _cancel(facts: PolicyFacts, payment: Payment) -> CancelDecision:
    """IPA-CA: no cancellation and no refund after applying."""
    parts = [Msg("申込後のキャンセル・返金はできません(IPA-CA。規約第4条は本文なしのため公開情報による)。",
                 "An application cannot be cancelled or refunded (IPA-CA; the terms' article 4 is empty, public information).")]
    rule = "IPA-CA"
    if payment.method == "voucher":
        rule += ",IPA-PAY"
        parts.append(Msg("バウチャーチケットは有効期限を過ぎると利用も返金もできません。",
                         "A voucher can neither be used nor refunded after its expiry."))
    elif payment.unpaid_store:
        rule += ",IPA-PAY"
        parts.append(Msg("未入金のコンビニ払い等は、支払期限までに入金がなければ申込が自動的に無効になります。",
                         "An unpaid convenience-store / Pay-easy application becomes void by itself if not paid by the due date."))
    return CancelDecision(False, None, rule, Msg.join(parts), refund=None)


def policy(ctx, facts: PolicyFacts) -> PolicyDecision:
    exam_start = facts.need("exam_start")
    payment = facts.need("payment")
    if facts.exam is not None:
        ctx.exam(facts.exam)
    limit = last_selectable_for(facts, payment)
    void = lapse(facts, payment)
    return PolicyDecision(_change(ctx, facts, exam_start, limit, void), _cancel(facts, payment), void)


def voucher_usable(expires_on: date | None, on: date) -> bool:
    """IPA-PAY: a voucher past its expiry date can no longer be used."""
    return expires_on is None or on <= expires_on
