"""When a candidate may sit FE / SG again.

IPA-RT-1: a new application for the same exam category opens once the booked exam's end
time has passed (processing then takes hours to a day).
IPA-RT-2: after sitting an exam (pass or fail) the next exam date must be after the 30 days
counted from the day after the previous exam date: earliest = previous exam date + 31 days
(sat 2026-04-01 → 2026-05-02). An absence is exempt from IPA-RT-2.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Sequence

from portal.sdk import JST, AttemptFact, Msg, RetakeDecision, jst

from plugins.cbt_ipa import text

RETAKE_GAP_DAYS = 31
"""IPA-RT-2: 前回の受験日の翌日から起算して30日を超えた日 = previous exam date + 31 days."""


def first_retake_day(previous_exam_day: date) -> date:
    """IPA-RT-2: the first exam date allowed after sitting on ``previous_exam_day``."""
    return previous_exam_day + timedelta(days=RETAKE_GAP_DAYS)


def retake_decision(attempts: Sequence[AttemptFact], at: datetime) -> RetakeDecision:
    """The first moment a new exam of the same category may start (IPA-RT-1/2); ``allowed``
    says whether an exam starting at ``at`` would be (the contract's "no retake now")."""
    if not attempts:
        return RetakeDecision(True, None, "IPA-RT-1,IPA-RT-2", Msg(
            "この試験区分の申込・受験歴がないため、待機期間はありません。",
            "No previous application or sitting of this exam category: no wait."))
    latest = max(attempts, key=lambda a: (a.start, a.end))
    application_opens = max(jst(a.end) for a in attempts)
    rt1 = Msg(
        f"再申込は申込済の試験の終了時刻{text.moment(application_opens).ja}を過ぎてから可能です"
        "(システム処理に数時間〜1日程度かかります)(IPA-RT-1)。",
        f"A new application opens after the booked exam's end time, {text.moment(application_opens).en} "
        "(processing takes a few hours to a day) (IPA-RT-1).")
    sittings = [a for a in attempts if a.outcome != "absent"]
    if not sittings:
        return RetakeDecision(jst(at) >= application_opens, application_opens, "IPA-RT-1", Msg(
            f"前回{text.day(jst(latest.start).date()).ja}は欠席のため、30日の待機(IPA-RT-2)は適用されません。",
            f"The previous exam on {text.day(jst(latest.start).date()).en} was missed (absent), so the 30-day wait "
            "(IPA-RT-2) does not apply.") + rt1)
    sat = max(sittings, key=lambda a: a.start)
    sat_day = jst(sat.start).date()
    retake_day = first_retake_day(sat_day)
    earliest = max(datetime.combine(retake_day, time(0, 0), JST), application_opens)
    absent_note = Msg("", "")
    if latest is not sat and latest.outcome == "absent":
        absent_note = Msg(
            f"その後の{text.day(jst(latest.start).date()).ja}は欠席のため、待機期間の起点になりません。",
            f"The later exam on {text.day(jst(latest.start).date()).en} was missed (absent) and does not restart the wait.")
    return RetakeDecision(jst(at) >= earliest, earliest, "IPA-RT-1,IPA-RT-2", Msg(
        f"前回の受験日{text.day(sat_day).ja}の翌日から数えて30日を超えた日、{text.day(retake_day).ja}以降を"
        "受験日に指定できます(合否を問いません)(IPA-RT-2)。",
        f"After sitting the exam on {text.day(sat_day).en} (pass or fail), the next exam date may be "
        f"{text.day(retake_day).en} or later: more than 30 days counted from the next day (IPA-RT-2).")
        + absent_note + rt1)
