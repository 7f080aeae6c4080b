"""Prometric as an exam-portal provider: hook implementations wiring ``rules.py``."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from portal.sdk import ClosureRule, Exam, Msg, ProviderInfo, ProviderSetting, hookimpl

from plugins.prometric import rules

PROVIDER_ID = "prometric"
_DATA = Path(__file__).parent / "data" / "catalog.json"


def _catalog() -> list[Exam]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return [Exam(e["code"], e["name"], e.get("price"), e.get("duration_minutes")) for e in data["exams"]]


INFO = ProviderInfo(
    id=PROVIDER_ID,
    name=Msg("プロメトリック(IT系資格試験)", "Prometric (IT certification exams)"),
    description=Msg("試験予約の確認・変更・キャンセル規程(PRM-*)", "Booking change and cancellation rules (PRM-*)"),
    exams=tuple(_catalog()),
    deadline_kinds=("change", "cancel"),
    # PRM-DL-1: the page says only 年末年始休業; Dec 29 – Jan 3 is the default, editable.
    closure_defaults=(ClosureRule(date(2000, 12, 29), date(2001, 1, 3),
                                  Msg("年末年始休業", "year-end closure (年末年始休業)"), yearly=True),),
    settings=(
        ProviderSetting(rules.SETTING_HOLIDAY_EXTRA_DAY, False, Msg(
            "祝日受験も4営業日前を期限にする(英語FAQの読み方。日本語ページは土日のみ)",
            "Exams on a national holiday also close 4 business days before (English FAQ; the Japanese page says weekends only)")),
        ProviderSetting(rules.SETTING_TRANSFER_FEE, 0, Msg(
            "返金時の振込手数料(円。規程に金額の記載なし)", "Refund transfer fee in yen (the rulebook gives no amount)")),
    ),
    payment_methods=("credit_card", "convenience_store", "pay_easy", "voucher"),
    # The provider's words, labelled in both languages (deadline kinds, payment methods).
    # Deadlines counted in business days land on one (checked by the conformance kit).
    business_day_kinds=("change", "cancel"),
    # Request bodies the rules API answers (docs, and the conformance kit starts from them).
    examples={
        "quote": {"items": [{"exam": "RUBY-SILVER", "count": 2}]},
        "retake": {"exam": "RUBY-SILVER", "at": "2026-12-01T10:00:00+09:00", "attempts": [{"start": "2026-11-01T10:00:00+09:00", "end": "2026-11-01T11:00:00+09:00", "outcome": "failed"}]},
        "policy": {"exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00", "booked_at": "2026-11-01T10:00:00+09:00", "first_booked_at": "2026-11-01T10:00:00+09:00", "payment": {"method": "credit_card", "paid": True, "amount": 7500}},
    },
    vocabulary={
        "change": Msg("変更期限", "Change deadline"),
        "cancel": Msg("キャンセル期限", "Cancellation deadline"),
        "credit_card": Msg("クレジットカード", "Credit card"),
        "convenience_store": Msg("コンビニ払い", "Convenience store"),
        "pay_easy": Msg("Pay-easy", "Pay-easy"),
        "voucher": Msg("受験チケット(バウチャー)", "Voucher"),
    },
    calculator_facts=("exam", "exam_start", "at", "first_booked_at", "payment", "items"),
    bookings=True,
)


@hookimpl
def provider_info():
    return INFO


@hookimpl
def provider_deadlines(ctx, query):
    if query.exam is not None:
        ctx.exam(query.exam)
    return rules.deadlines(ctx, query.exam_start)


@hookimpl
def provider_policy(ctx, facts):
    return rules.policy(ctx, facts)


@hookimpl
def provider_booking_decision(ctx, action, facts):
    return rules.booking_decision(ctx, action, facts)


@hookimpl
def provider_quote(ctx, query):
    return rules.quote(ctx, query)


@hookimpl
def provider_retake(ctx, query):
    return rules.retake(ctx, query)
