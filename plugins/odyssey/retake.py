"""ODY-RT: retake waiting rules (再受験のルール, manual 2.4.5), keyed by the contract's family codes.

Absences never count as attempts (「欠席は受験回数に含まれません」). The rules are per subject:
the attempts given are taken to be of the same subject.

- Compass exams depend on the previous result and are measured from the previous attempt's
  **start**: after a pass MOS/IC3/ACPro/CCST are free, MCE/MSFUND/Swift/ITS must ask Odyssey
  first; after a failure, 2nd attempt 24 h, 3rd+ 48 h (MOS, IC3, CCST) / 120 h (ACPro, Swift) /
  168 h (ITS) / 336 h (MCE, MSFUND), and ITS/MCE/MSFUND allow at most 5 attempts in 12 months
  (5th failed → none until 12 months from the first of those attempts' date).
- Odyssey CBT exams apply whatever the result, measured from the previous attempt's **end**.
  Blank cells of the printed table are merged cells (RULES.md, ambiguity 12).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Sequence

from portal.sdk import JST, AttemptFact, Msg, RetakeDecision, jst, same_date_years_later

from plugins.odyssey.catalog import FAMILY_NAMES
from plugins.odyssey.timefmt import moment

RULE = "ODY-RT"
H = timedelta(hours=1)


@dataclass(frozen=True)
class Waits:
    """Waiting times of one row of the table; ``None`` = no wait (制限なし)."""

    second: timedelta | None
    third: timedelta | None
    measured_from: str  # "start" | "end"


# Compass rows (after a failure), start → start.
COMPASS_WAITS = {
    "MOS": Waits(24 * H, 48 * H, "start"), "IC3": Waits(24 * H, 48 * H, "start"), "CCST": Waits(24 * H, 48 * H, "start"),
    "ACPRO": Waits(24 * H, 120 * H, "start"), "SWIFT": Waits(24 * H, 120 * H, "start"),
    "ITS": Waits(24 * H, 168 * H, "start"),
    "MCE": Waits(24 * H, 336 * H, "start"), "MSFUND": Waits(24 * H, 336 * H, "start"),
}
COMPASS_FREE_AFTER_PASS = frozenset({"MOS", "IC3", "ACPRO", "CCST"})
COMPASS_ASK_AFTER_PASS = frozenset({"MCE", "MSFUND", "SWIFT", "ITS"})
FIVE_IN_TWELVE_MONTHS = frozenset({"ITS", "MCE", "MSFUND"})
MICROSOFT_PERMISSION = frozenset({"MCE", "MSFUND"})

# Odyssey CBT rows (pass or fail), end → start.
CBT_WAITS = {
    "BIZSTATS": Waits(24 * H, 48 * H, "end"), "GLOBAL_LITERACY": Waits(24 * H, 48 * H, "end"),
    **{f: Waits(None, 168 * H, "end") for f in ("VBA", "RAILS", "PYTHON", "PHP", "WEBSEC", "KUSANAGI")},
    "CEXAM": Waits(None, timedelta(days=180), "end"),
    "CBAS": Waits(336 * H, 336 * H, "end"),
    "STATKENTEI": Waits(168 * H, 168 * H, "end"), "YCNE": Waits(168 * H, 168 * H, "end"),
    "DAA": Waits(None, None, "end"),
}
CONKEN_DAYS = 14  # 「受験日を起算日として14日間経過後」: the exam date is day 1
NO_RETAKE_IN_PERIOD = frozenset({"REUSE", "LYMPHEDEMA", "WASHING"})


def _hours(wait: timedelta) -> Msg:
    if wait.days >= 180 and wait.seconds == 0:
        return Msg(f"{wait.days}日間", f"{wait.days} days")
    hours = int(wait.total_seconds() // 3600)
    return Msg(f"{hours}時間", f"{hours} hours")


def _decision(earliest: datetime | None, at: datetime, why: Msg) -> RetakeDecision:
    """``earliest`` None: no wait. Otherwise allowed once ``at`` reached it."""
    if earliest is None:
        return RetakeDecision(True, None, RULE, why)
    allowed = jst(at) >= earliest
    tail = Msg(f"{moment(earliest).ja}以降に開始する試験から受験できます。", f"The next exam may start from {moment(earliest).en}.")
    return RetakeDecision(allowed, jst(earliest), RULE, why + tail)


def _counted(attempts: Sequence[AttemptFact]) -> list[AttemptFact]:
    return sorted((a for a in attempts if a.outcome != "absent"), key=lambda a: a.start)


def _absent_note(attempts: Sequence[AttemptFact]) -> Msg:
    absent = sum(1 for a in attempts if a.outcome == "absent")
    if not absent:
        return Msg("", "")
    return Msg(f"欠席{absent}回は受験回数に含めません。", f"{absent} absence(s) not counted as attempts.")


def retake(family: str, attempts: Sequence[AttemptFact], at: datetime) -> RetakeDecision:
    name = FAMILY_NAMES[family]
    counted = _counted(attempts)
    note = _absent_note(attempts)
    if not counted:
        return RetakeDecision(True, None, RULE, note + Msg(
            f"{name.ja}の受験履歴(欠席を除く)がないため、待機期間はありません。",
            f"No previous {name.en} attempt (absences excluded): no wait."))
    if family in COMPASS_WAITS:
        return _compass(family, name, counted, at, note)
    return _odyssey_cbt(family, name, counted, at, note)


def _compass(family: str, name: Msg, counted: list[AttemptFact], at: datetime, note: Msg) -> RetakeDecision:
    last, n = counted[-1], len(counted)
    if last.outcome == "passed":
        if family in COMPASS_FREE_AFTER_PASS:
            return RetakeDecision(True, None, RULE, note + Msg(
                f"前回の{name.ja}は合格のため、再受験に関する制限はありません。",
                f"The previous {name.en} attempt was passed: no retake restriction."))
        return RetakeDecision(False, None, RULE, note + Msg(
            f"前回の{name.ja}は合格のため、再受験の前にオデッセイのカスタマーサービスへの問い合わせが必要です(事前に問い合わせるよう案内してください)。",
            f"The previous {name.en} attempt was passed: the candidate must ask Odyssey's customer service before a retake."))
    waits = COMPASS_WAITS[family]
    wait = waits.second if n == 1 else waits.third
    earliest = jst(last.start) + wait
    which = Msg("2回目", "2nd attempt") if n == 1 else Msg(f"{n + 1}回目(3回目以降)", f"attempt {n + 1} (3rd or later)")
    why = note + Msg(
        f"前回の{name.ja}は不合格のため、{which.ja}は前回試験の開始時刻({moment(last.start).ja})から{_hours(wait).ja}経過後です。",
        f"The previous {name.en} attempt was failed, so the {which.en} may start {_hours(wait).en} after the previous "
        f"start ({moment(last.start).en}).")
    if family in FIVE_IN_TWELVE_MONTHS and n >= 5:
        first = counted[-5]
        limit = datetime.combine(same_date_years_later(jst(first.start).date()), time(0, 0), JST)
        if jst(last.start) < limit:
            permission = Msg("12か月に5回を超えて受験するにはMicrosoftの事前許可が必要です。",
                             "Sitting more than 5 times in 12 months needs Microsoft's prior permission.") \
                if family in MICROSOFT_PERMISSION else Msg("", "")
            why = why + Msg(
                f"同一科目は12か月に5回までで、5回目が不合格のため、最初の受験日{jst(first.start).date().isoformat()}から12か月間は再受験できません。",
                f"At most 5 attempts in 12 months: the 5th failed, so no retake for 12 months from the first of them "
                f"({jst(first.start).date().isoformat()}).") + permission
            earliest = max(earliest, limit)
    return _decision(earliest, at, why)


def _odyssey_cbt(family: str, name: Msg, counted: list[AttemptFact], at: datetime, note: Msg) -> RetakeDecision:
    last, n = counted[-1], len(counted)
    if family in NO_RETAKE_IN_PERIOD:
        return RetakeDecision(False, None, RULE, note + Msg(
            f"{name.ja}は開催期間中の再受験はできません(開催期間はオデッセイに確認してください)。",
            f"{name.en} cannot be retaken within its offering period (ask Odyssey for the period)."))
    if family == "CONKEN":
        day1 = jst(last.start).date()
        earliest = datetime.combine(day1 + timedelta(days=CONKEN_DAYS), time(0, 0), JST)
        return _decision(earliest, at, note + Msg(
            f"{name.ja}は前回の受験日{day1.isoformat()}を起算日(1日目)として14日間経過後に再受験できます(合否に関わらず)。",
            f"{name.en}: 14 days must pass counting the previous exam date {day1.isoformat()} as day 1 (pass or fail)."))
    waits = CBT_WAITS[family]
    wait = waits.second if n == 1 else waits.third
    which = Msg("2回目", "2nd attempt") if n == 1 else Msg(f"{n + 1}回目(3回目以降)", f"attempt {n + 1} (3rd or later)")
    if wait is None:
        return RetakeDecision(True, None, RULE, note + Msg(
            f"{name.ja}の{which.ja}は制限なしです(合否に関わらず)。", f"{name.en}: no wait for the {which.en} (pass or fail)."))
    earliest = jst(last.end) + wait
    return _decision(earliest, at, note + Msg(
        f"{name.ja}は合否に関わらず、{which.ja}は前回試験の終了時刻({moment(last.end).ja})から{_hours(wait).ja}経過後です。",
        f"{name.en}, pass or fail: the {which.en} may start {_hours(wait).en} after the previous end ({moment(last.end).en})."))
