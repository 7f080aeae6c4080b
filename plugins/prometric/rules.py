"""Prometric's change / cancel rules (rulebook: prometric-change-cancel.txt, rules PRM-*).

Pure functions of the facts and a :class:`~portal.providers.RuleContext`; the hook
implementations in ``plugin.py`` only wire them to the portal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from portal.sdk import (
    JST, STORE_METHODS, BadInput, BookingDecision, CancelDecision, ChangeDecision, Deadline, LapseDecision, Msg,
    Payment, PolicyDecision, PolicyFacts, Quote, QuoteLine, QuoteQuery, RetakeDecision, format_day, jst,
    same_date_years_later,
)
from portal.sdk.parse import positive_int, items_list

SETTING_HOLIDAY_EXTRA_DAY = "holiday_exam_extra_day"
SETTING_TRANSFER_FEE = "refund_transfer_fee"


def _fmt(dt: datetime) -> str:
    return jst(dt).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ChangeCancelDeadline:
    at: datetime
    explanation: Msg


def change_cancel_deadline(ctx, exam_start: datetime) -> ChangeCancelDeadline:
    """PRM-DL-1: 23:59 on the 3rd business day before the exam date, the 4th when the exam
    is on a Saturday or Sunday (and on a national holiday when the organisation chose the
    English FAQ's reading, setting ``holiday_exam_extra_day``)."""
    exam_day = jst(exam_start).date()
    holiday = ctx.calendar.holiday_name(exam_day)
    if exam_day.weekday() >= 5:
        n = 4
        why = Msg("土日受験", "a weekend exam")
    elif holiday is not None and ctx.setting(SETTING_HOLIDAY_EXTRA_DAY):
        n = 4
        why = Msg(f"祝日({holiday.ja})受験", f"an exam on a national holiday ({holiday.en})")
    else:
        n = 3
        why = Msg("平日受験", "a weekday exam")
    shift = ctx.calendar.business_days_before(exam_day, n)
    at = datetime.combine(shift.day, time(23, 59), JST)
    explanation = Msg(
        f"試験日{format_day(exam_day).ja}は{why.ja}のため、{n}営業日前の{format_day(shift.day).ja} 23:59が"
        f"変更・キャンセルの受付期限です(営業日に数えなかった日: {shift.skipped_text('ja')})。",
        f"The exam on {format_day(exam_day).en} is {why.en}, so changes and cancellations close at 23:59 on "
        f"{format_day(shift.day).en}, {n} business days before (days not counted: {shift.skipped_text('en')}).",
    )
    return ChangeCancelDeadline(at, explanation)


def deadlines(ctx, exam_start: datetime) -> list[Deadline]:
    dl = change_cancel_deadline(ctx, exam_start)
    return [Deadline("change", dl.at, "PRM-DL-1", dl.explanation),
            Deadline("cancel", dl.at, "PRM-DL-1", dl.explanation)]


def payment_fee(amount: int) -> int:
    """Convenience-store / Pay-easy payment fee (Prometric's 特定商取引法 page, PRM-CA-2)."""
    if amount < 10_000:
        return 242
    if amount < 30_000:
        return 314
    return 419


def change_year_limit(first_booked_at: datetime) -> datetime:
    """PRM-CH-2: changes end once one year has passed since the first booking date."""
    last_day = same_date_years_later(jst(first_booked_at).date())
    return datetime.combine(last_day, time(23, 59, 59), JST)


def reauthorization_needed(first_booked_at: datetime, at: datetime) -> bool:
    """PRM-CH-4: 30 days have passed since the card authorisation (first booking) date."""
    return jst(at).date() > jst(first_booked_at).date() + timedelta(days=30)


def _change(ctx, facts: PolicyFacts, deadline: ChangeCancelDeadline, payment: Payment) -> ChangeDecision:
    at = jst(facts.at)
    never = Msg("試験科目と支払方法は変更できません(変更はキャンセルして新規予約)。",
                "The exam subject and payment method can never be changed (cancel and book again).")
    if at > deadline.at:
        return ChangeDecision(False, deadline.at, "PRM-DL-1", Msg(
            f"変更受付期限({_fmt(deadline.at)})を過ぎています。", f"The change deadline ({_fmt(deadline.at)}) has passed.")
            + deadline.explanation)
    if payment.unpaid_store:
        return ChangeDecision(False, None, "PRM-CH-1", Msg(
            "コンビニ・Pay-easy払いで受験料が未入金のため変更できません。支払いを完了するか、キャンセルして新たに予約してください。",
            "The convenience-store / Pay-easy fee is not paid yet, so the booking cannot be changed: pay first, or cancel and book again."))
    first = facts.first_booked_at or facts.booked_at
    if first is None:
        facts.need("first_booked_at")
    year_limit = change_year_limit(first)
    if at > year_limit:
        return ChangeDecision(False, year_limit, "PRM-CH-2", Msg(
            f"最初の予約日({jst(first).date().isoformat()})から1年を経過しているため変更できません。キャンセルして新たに予約してください。",
            f"One year has passed since the first booking on {jst(first).date().isoformat()}, so the booking cannot be changed: cancel and book again."))
    until = min(deadline.at, year_limit)
    rules = ["PRM-DL-1", "PRM-CH-3"]
    requires: list[str] = []
    parts = [Msg(f"{_fmt(until)}まで日時・会場を変更できます。", f"Date and venue can be changed until {_fmt(until)}.")]
    if year_limit < deadline.at:
        rules.append("PRM-CH-2")
        parts.append(Msg(f"最初の予約日から1年({year_limit.date().isoformat()})までです。",
                         f"Changes end one year after the first booking ({year_limit.date().isoformat()})."))
    if payment.method == "credit_card" and reauthorization_needed(first, at):
        rules.append("PRM-CH-4")
        requires.append("card_reauthorization")
        parts.append(Msg("最初の予約日(カード与信日)から30日を経過しているため、変更時にクレジットカード情報の再入力(再与信)が必要です。",
                         "30 days have passed since the first booking (card authorisation), so the card must be entered again (re-authorisation)."))
    parts.append(never)
    return ChangeDecision(True, until, ",".join(rules), Msg.join(parts), tuple(requires), None)


def _cancel(ctx, facts: PolicyFacts, deadline: ChangeCancelDeadline, payment: Payment) -> CancelDecision:
    at = jst(facts.at)
    if at > deadline.at:
        return CancelDecision(False, deadline.at, "PRM-DL-1", Msg(
            f"キャンセル受付期限({_fmt(deadline.at)})を過ぎています。", f"The cancellation deadline ({_fmt(deadline.at)}) has passed.")
            + deadline.explanation)
    head = Msg(f"{_fmt(deadline.at)}までキャンセルできます。", f"The booking can be cancelled until {_fmt(deadline.at)}.")
    if payment.method == "voucher":
        reusable = at + timedelta(hours=24)
        return CancelDecision(True, deadline.at, "PRM-DL-1,PRM-CA-1", head + Msg(
            f"同じ受験チケット番号はキャンセル完了から24時間後({_fmt(reusable)})まで新規予約に使えません。",
            f"The same voucher number cannot be used for a new booking until 24 hours after the cancellation ({_fmt(reusable)})."),
            refund=None, voucher_reusable_at=reusable)
    if payment.method in STORE_METHODS and payment.paid:
        if payment.amount is None:
            raise BadInput("missing_field", Msg("payment.amount が必要です。", "payment.amount is required."), "payment.amount")
        fee = payment_fee(payment.amount)
        transfer = int(ctx.setting(SETTING_TRANSFER_FEE))
        refund = max(0, payment.amount - fee - transfer)
        return CancelDecision(True, deadline.at, "PRM-DL-1,PRM-CA-2", head + Msg(
            f"返金は銀行振込で、支払額{payment.amount:,}円から支払手数料{fee:,}円と振込手数料{transfer:,}円を差し引いた{refund:,}円です。"
            "返金先口座(金融機関コード4桁・支店コード3桁・口座種別・半角カナ英数の口座名義)が必要です。",
            f"The refund is by bank transfer: {payment.amount:,} yen paid minus the payment fee {fee:,} yen and the transfer fee "
            f"{transfer:,} yen = {refund:,} yen. A refund account (4-digit bank code, 3-digit branch code, type, holder in half-width kana) is needed."),
            refund=refund)
    if payment.method in STORE_METHODS:
        return CancelDecision(True, deadline.at, "PRM-DL-1,PRM-CH-1", head + Msg(
            "未入金のため返金はなく、キャンセル後すぐに予約一覧から消えます。",
            "Nothing was paid, so there is no refund and the booking disappears at once."), refund=None)
    return CancelDecision(True, deadline.at, "PRM-DL-1,PRM-CA-2", head + Msg(
        "クレジットカード払いはカード決済の取消となり、銀行振込の返金はありません。",
        "A card payment is voided through the card company; there is no bank-transfer refund."), refund=None)


def _lapse(facts: PolicyFacts, payment: Payment) -> LapseDecision | None:
    """PRM-CA-3: an unpaid convenience-store / Pay-easy booking past its due date is cancelled."""
    if not payment.unpaid_store or payment.due is None:
        return None
    due = jst(payment.due)
    lapsed = jst(facts.at) > due
    return LapseDecision(lapsed, due, "PRM-CA-3", Msg(
        f"支払期限({_fmt(due)})までに入金がない仮予約は自動的にキャンセルされます。"
        + ("期限を過ぎたためキャンセルされました。" if lapsed else ""),
        f"An unpaid booking is cancelled automatically after its payment due date ({_fmt(due)})."
        + (" The due date has passed: cancelled." if lapsed else "")))


def booking_decision(ctx, action: str, facts) -> BookingDecision | None:
    """PRM-CA-1: a cancelled voucher number cannot be used for a new booking until 24 hours
    after the cancellation (``facts.voucher_locked_until``, from the cancelled booking)."""
    if action != "book" or facts.payment.method != "voucher" or facts.voucher_locked_until is None:
        return None
    until = jst(facts.voucher_locked_until)
    if jst(facts.at) >= until:
        return None
    return BookingDecision(False, "PRM-CA-1", Msg(
        f"キャンセルした受験チケットは{_fmt(until)}まで新規予約に使えません(キャンセル完了から24時間)。",
        f"A cancelled voucher cannot be used for a new booking until {_fmt(until)} (24 hours after the cancellation)."),
        field="voucher_code")


def policy(ctx, facts: PolicyFacts) -> PolicyDecision:
    exam_start = facts.need("exam_start")
    payment = facts.need("payment")
    deadline = change_cancel_deadline(ctx, exam_start)
    return PolicyDecision(_change(ctx, facts, deadline, payment), _cancel(ctx, facts, deadline, payment),
                          _lapse(facts, payment))


def quote(ctx, query: QuoteQuery) -> Quote:
    """Catalog prices; a ``payment_method`` of convenience_store / pay_easy adds the fee."""
    lines = []
    for i, item in enumerate(items_list(query.payload)):
        exam = ctx.exam(item.get("exam"), f"items[{i}].exam")
        count = positive_int(item.get("count", 1), f"items[{i}].count")
        lines.append(QuoteLine(Msg(exam.name, exam.name), int(exam.price or 0), count))
    fees = sum(line.amount for line in lines)
    rule, parts = "PRM-CATALOG", [Msg(f"受験料合計{fees:,}円(カタログ価格、税込)。", f"Exam fees {fees:,} yen (catalog prices, tax included).")]
    method = query.payload.get("payment_method")
    if method in STORE_METHODS:
        fee = payment_fee(fees)
        lines.append(QuoteLine(Msg("支払手数料(コンビニ・Pay-easy)", "Payment fee (convenience store / Pay-easy)"), fee, 1))
        rule += ",PRM-CA-2"
        parts.append(Msg(f"コンビニ・Pay-easy払いの支払手数料{fee:,}円を加えます。", f"Adds the convenience-store / Pay-easy fee of {fee:,} yen."))
    total = sum(line.amount for line in lines)
    return Quote(lines, total, rule, Msg.join(parts), {"fees_total": fees})


def retake(ctx, query) -> RetakeDecision:
    ctx.exam(query.exam)
    return RetakeDecision(True, None, "PRM-RT", Msg(
        "プロメトリックの予約規程には再受験の待機期間の定めがありません。試験主催団体の再受験ポリシーも確認してください。",
        "Prometric's booking rules set no retake wait; check the exam sponsor's own retake policy too."))
