"""A small provider of the core's own tests (not a real brand): rule IDs SMP-*.

SMP-DL-1 application closes 10 business days before the exam (23:59:59);
SMP-CH-1 change and cancel until 3 business days before; SMP-FEE-1 fee per grade × count;
SMP-RT-1 a failed candidate waits 14 days. Its own deadline kind ``essay`` and fact
``grade`` carry their labels (``ProviderInfo.vocabulary`` / ``facts``).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from portal.plugins import hookimpl
from portal.rules import (
    JST, CancelDecision, ChangeDecision, Deadline, Exam, Fact, Msg, PolicyDecision, ProviderInfo, Quote, QuoteLine,
    RetakeDecision, RuleRefusal, jst,
)
from portal.rules import parse

FEES = {"A": 3000, "B": 5000}
INFO = ProviderInfo(
    id="sample", name=Msg("サンプル検定", "Sample Test"), exams=(Exam("S1", "Sample 1", 3000, 60),),
    deadline_kinds=("application", "essay"),
    payment_methods=("bank",),
    vocabulary={"application": Msg("申込締切", "Application deadline"), "essay": Msg("小論文提出", "Essay upload"),
                "bank": Msg("銀行振込", "Bank transfer")},
    facts=(Fact("grade", Msg("級", "Grade"), "choice", (("A", Msg("A級", "Grade A")), ("B", Msg("B級", "Grade B")))),
           Fact("count", Msg("人数", "Candidates"), "integer")),
    calculator_facts=("exam", "exam_start", "at", "grade", "count", "attempts"),
    bookings=True,
    business_day_kinds=("application", "essay"),
    examples={"quote": {"grade": "A", "count": 2},
              "policy": {"exam": "S1", "exam_start": "2027-01-15T10:00:00+09:00", "at": "2027-01-04T10:00:00+09:00"},
              "retake": {"exam": "S1", "at": "2027-01-04T10:00:00+09:00",
                         "attempts": [{"start": "2026-12-20T10:00:00+09:00", "outcome": "failed"}]}},
)


def _end_of(day) -> datetime:
    return datetime.combine(day, time(23, 59, 59), JST)


@hookimpl
def provider_info():
    return INFO


@hookimpl
def provider_deadlines(ctx, query):
    if query.exam is not None:
        ctx.exam(query.exam)
    day = jst(query.exam_start).date()
    application = ctx.calendar.business_days_before(day, 10).day
    essay = ctx.calendar.business_days_before(day, 5).day
    return [Deadline("application", _end_of(application), "SMP-DL-1",
                     Msg(f"試験日の10営業日前({application})が申込締切です。", f"Applications close 10 business days before ({application}).")),
            Deadline("essay", _end_of(essay), "SMP-DL-1",
                     Msg(f"小論文は5営業日前({essay})までに提出します。", f"Upload the essay 5 business days before ({essay})."))]


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
    start = facts.need("exam_start")
    until = _end_of(ctx.calendar.business_days_before(jst(start).date(), 3).day)
    open_ = facts.at <= until
    why = Msg(f"試験の3営業日前({until:%Y-%m-%d})まで変更・キャンセルできます。",
              f"Changes and cancellations close 3 business days before ({until:%Y-%m-%d}).")
    return PolicyDecision(ChangeDecision(open_, until, "SMP-CH-1", why), CancelDecision(open_, until, "SMP-CH-1", why))
