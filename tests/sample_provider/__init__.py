"""A small provider of the core's own tests (not a real brand): rule IDs SMP-*.

SMP-DL-1 application closes 10 business days before the exam (23:59:59), the essay upload 5;
SMP-DL-2 an organisation may close both one business day earlier (setting ``early_close``);
SMP-CH-1 change and cancel until 3 business days before; SMP-FEE-1 fee per grade × count;
SMP-RT-1 a failed candidate waits 14 days; SMP-CA-1 refund less a fee (card payments are voided
and a voucher is free again instead); SMP-PAY-1 unpaid shop payments lapse at their due date. Its own deadline kind ``essay`` and fact
``grade`` carry their labels (``ProviderInfo.vocabulary`` / ``facts``).
"""
from __future__ import annotations

from datetime import date, timedelta

from portal.plugins import hookimpl
from portal.rules import (
    STORE_METHODS, CancelDecision, ClosureRule, ChangeDecision, Deadline, Exam, Fact, LapseDecision, Msg, PolicyDecision,
    ProviderInfo, ProviderSetting, Quote, QuoteLine, RetakeDecision, RuleRefusal, end_of_day, jst,
)
from portal.rules import parse

FEES = {"A": 3000, "B": 5000}
INFO = ProviderInfo(
    id="sample", name=Msg("サンプル検定", "Sample Test"), exams=(Exam("S1", "Sample 1", 3000, 60),),
    deadline_kinds=("application", "essay"),
    payment_methods=("credit_card", "convenience_store", "pay_easy", "bank", "voucher"),
    settings=(ProviderSetting("refund_fee", 0, Msg("返金手数料(円)", "Refund fee (yen)")),
              ProviderSetting("early_close", False, Msg("締切を1営業日早める", "Close one business day earlier"))),
    vocabulary={"application": Msg("申込締切", "Application deadline"), "essay": Msg("小論文提出", "Essay upload"),
                "bank": Msg("銀行振込", "Bank transfer"), "credit_card": Msg("クレジットカード", "Credit card"),
                "convenience_store": Msg("コンビニ払い", "Convenience store"), "pay_easy": Msg("Pay-easy", "Pay-easy"),
                "voucher": Msg("受験チケット", "Voucher")},
    facts=(Fact("grade", Msg("級", "Grade"), "choice", (("A", Msg("A級", "Grade A")), ("B", Msg("B級", "Grade B")))),
           Fact("count", Msg("人数", "Candidates"), "integer")),
    calculator_facts=("exam", "exam_start", "at", "payment", "grade", "count", "attempts"),  # payment: SMP-CA-1, SMP-PAY-1
    bookings=True,
    closure_defaults=(ClosureRule(date(2000, 12, 29), date(2001, 1, 3), Msg("年末年始休業", "year-end closure"), yearly=True),),
    business_day_kinds=("application", "essay"),
    examples={"quote": {"grade": "A", "count": 2},
              "policy": {"exam": "S1", "exam_start": "2027-01-15T10:00:00+09:00", "at": "2027-01-04T10:00:00+09:00"},
              "retake": {"exam": "S1", "at": "2027-01-04T10:00:00+09:00",
                         "attempts": [{"start": "2026-12-20T10:00:00+09:00", "outcome": "failed"}]}},
)


@hookimpl
def provider_info():
    return INFO


@hookimpl
def provider_deadlines(ctx, query):
    if query.exam is not None:
        ctx.exam(query.exam)
    day = jst(query.exam_start).date()
    early = 1 if ctx.setting("early_close") else 0
    rule = "SMP-DL-1,SMP-DL-2" if early else "SMP-DL-1"
    application = ctx.calendar.business_days_before(day, 10 + early)
    essay = ctx.calendar.business_days_before(day, 5 + early)
    return [Deadline("application", end_of_day(application.day), rule, Msg(
                f"試験日の{10 + early}営業日前({application.day})が申込締切です(数えなかった日: {application.skipped_text('ja')})。",
                f"Applications close {10 + early} business days before ({application.day}; not counted: {application.skipped_text('en')}).")),
            Deadline("essay", end_of_day(essay.day), rule, Msg(
                f"小論文は{5 + early}営業日前({essay.day})までに提出します(数えなかった日: {essay.skipped_text('ja')})。",
                f"Upload the essay {5 + early} business days before ({essay.day}; not counted: {essay.skipped_text('en')})."))]


@hookimpl
def provider_quote(ctx, query):
    grade = parse.string_value(query.payload.get("grade"), "grade")
    if grade not in FEES:
        raise RuleRefusal("unknown_grade", Msg("級はAかBです。", "The grade is A or B."), "grade")
    count = parse.positive_int(query.payload.get("count", 1), "count")
    return Quote((QuoteLine(Msg(f"{grade}級", f"Grade {grade}"), FEES[grade], count),), FEES[grade] * count, "SMP-FEE-1",
                 Msg(f"{grade}級の受験料{FEES[grade]}円×{count}名です。", f"Grade {grade} fee ¥{FEES[grade]} × {count}."))


@hookimpl
def provider_retake(ctx, query):
    ctx.exam(query.exam)
    failed = [a for a in query.attempts if a.outcome != "passed"]
    if not failed:
        return RetakeDecision(True, None, "SMP-RT-1", Msg("待機期間はありません。", "No waiting period applies."))
    earliest = max(a.end for a in failed) + timedelta(days=14)
    return RetakeDecision(True, earliest, "SMP-RT-1", Msg("不合格の14日後から再受験できます。", "A retake may start 14 days after a fail."))


@hookimpl
def provider_policy(ctx, facts):
    """SMP-CH-1 change / cancel until 3 business days before; SMP-CA-1 a paid booking is
    refunded less the organisation's refund fee; SMP-PAY-1 an unpaid shop payment lapses
    at its due date."""
    start = facts.need("exam_start")
    until = end_of_day(ctx.calendar.business_days_before(jst(start).date(), 3).day)
    open_ = facts.at <= until
    why = Msg(f"試験の3営業日前({until:%Y-%m-%d})まで変更・キャンセルできます。",
              f"Changes and cancellations close 3 business days before ({until:%Y-%m-%d}).")
    payment = facts.payment
    refund = None
    if open_ and payment is not None and payment.paid and payment.amount and payment.method not in ("credit_card", "voucher"):
        refund = max(0, payment.amount - int(ctx.setting("refund_fee")))
    lapse = None
    if payment is not None and not payment.paid and payment.method in STORE_METHODS and payment.due is not None:
        lapsed = facts.at > payment.due
        lapse = LapseDecision(lapsed, payment.due, "SMP-PAY-1", Msg(
            f"支払期日({payment.due:%Y-%m-%d %H:%M})までに支払いがなければ予約は取り消されます。",
            f"Unpaid by its due date ({payment.due:%Y-%m-%d %H:%M}), the booking lapses."))
    return PolicyDecision(ChangeDecision(open_, until, "SMP-CH-1", why),
                          CancelDecision(open_, until, "SMP-CH-1,SMP-CA-1" if refund else "SMP-CH-1", why, refund=refund),
                          lapse)
