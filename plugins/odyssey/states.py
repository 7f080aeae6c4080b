"""ODY-ST: the states of an exam day (試験実施日一覧「状態」, manual 3.1.4) and what each allows.

The state follows from the clicks recorded on the day (confirmed, results entered,
completed) and from the clock: an unconfirmed day past its application deadline is
expired; a confirmed day is 「試験当日」 on its date and 「試験結果を入力して、確定してください」
from the next day. Edits (add, delete, change candidates; CSV import) are possible in draft
up to the deadline day inclusive (「申込締切日の翌日以降は削除できません」, 3.2.2 / 3.2.3).
"""
from __future__ import annotations

from datetime import datetime

from portal.sdk import Msg, jst

DRAFT, CONFIRMED, EXAM_DAY, RESULTS_DUE = "draft", "confirmed", "exam_day", "results_due"
RESULTS_ENTERED, COMPLETED, EXPIRED = "results_entered", "completed", "expired"

LABELS = {
    DRAFT: Msg("受験者を登録して、申込を確定してください", "Register candidates, then confirm the application"),
    CONFIRMED: Msg("申込済", "Applied"),
    EXAM_DAY: Msg("試験当日", "Exam day"),
    RESULTS_DUE: Msg("試験結果を入力して、確定してください", "Enter and confirm the results"),
    RESULTS_ENTERED: Msg("結果入力済", "Results entered"),
    COMPLETED: Msg("試験完了", "Completed"),
    EXPIRED: Msg("申込を確定せずに、締切日が過ぎました", "The deadline passed without confirmation"),
}


def state_at(day, now: datetime) -> str:
    """The state an exam day is in at ``now`` (ODY-ST)."""
    now = jst(now)
    if day.completed_at is not None:
        return COMPLETED
    if day.results_entered_at is not None:
        return RESULTS_ENTERED
    if day.confirmed_at is None:
        return EXPIRED if now > jst(day.application_deadline) else DRAFT
    if now.date() < day.exam_date:
        return CONFIRMED
    if now.date() == day.exam_date:
        return EXAM_DAY
    return RESULTS_DUE


def before_deadline(day, now: datetime) -> bool:
    return jst(now) <= jst(day.application_deadline)


def can_edit(day, now: datetime) -> bool:
    """Add, delete, change candidates or import: in draft, up to the deadline (3.2)."""
    return state_at(day, now) == DRAFT


def can_withdraw(day, now: datetime) -> bool:
    """確定取消: only on a confirmed day before the deadline (it only serves the edits of 3.2)."""
    return state_at(day, now) == CONFIRMED and before_deadline(day, now)


def can_late_add(day, now: datetime) -> bool:
    """ODY-LA applies after the deadline, to an applied day (申込済, or 試験当日 for an afternoon
    exam); the ODY-LA deadline itself is checked with the deposit balance."""
    return state_at(day, now) in (CONFIRMED, EXAM_DAY) and not before_deadline(day, now)
