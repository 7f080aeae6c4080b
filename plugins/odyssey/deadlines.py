"""Odyssey deadlines of an exam day: application, payment, late addition, self-exam request.

Rules (odyssey-venue-manual.txt; digest in RULES.md):
- ODY-DL-1 申込締切日 = the 3rd business day before the exam date (土・日・祝日 and closure days
  not counted; no extra day for weekend exams) [3.1.1]; 23:59:59 (api-contract: no time given).
- ODY-DL-2 入金期日 = the same day [3.1.1, 3.3.1].
- ODY-DL-3 no exam on a 試験実施不可日 (closure day) [2.1]: refused with the reason.
- ODY-DL-4 自校受験申請 = the 5th business day before the exam date [2.4.7].
- ODY-LA 追加申込: requests close at 12:00 and are processed 12:00–13:00 on business days only
  [3.4.1, 3.4.2]: an exam from 13:00 on a business day → 12:00 the same day; otherwise
  (morning exam, or an exam on a day without processing) → 12:00 of the previous business day.
"""
from __future__ import annotations

from datetime import date, datetime, time

from portal.sdk import JST, BusinessCalendar, Deadline, Msg, RuleRefusal, Shift, end_of_day, format_day, jst

from plugins.odyssey.timefmt import moment

APPLICATION_DAYS = 3
SELF_EXAM_DAYS = 5
LATE_ADDITION_CLOSE = time(12, 0)
LATE_ADDITION_PROCESSED_BY = time(13, 0)
#: Setting: an exam starting at exactly 13:00 counts as a morning exam (注意1 read strictly).
SETTING_STRICT_13 = "late_addition_13_strict"


def check_exam_day(calendar: BusinessCalendar, exam_day: date) -> None:
    """ODY-DL-3: refuse an exam date that is one of Odyssey's 試験実施不可日."""
    reason = calendar.closure_reason(exam_day)
    if reason is not None:
        raise RuleRefusal("exam_day_not_allowed", Msg(
            f"{format_day(exam_day).ja}は試験実施不可日({reason.ja})のため、随時試験を実施できません(ODY-DL-3)。",
            f"{format_day(exam_day).en} is a day on which Odyssey exams cannot be held ({reason.en}) (ODY-DL-3)."),
            "exam_start")


def _counted(shift: Shift, n: int, exam_day: date, what: Msg) -> Msg:
    return Msg(
        f"試験日{format_day(exam_day).ja}の{n}営業日前(土・日・祝日・休業日を除く)の{format_day(shift.day).ja} "
        f"23:59:59が{what.ja}です(営業日に数えなかった日: {shift.skipped_text('ja')})。",
        f"The {what.en} is 23:59:59 on {format_day(shift.day).en}, {n} business days before the exam on "
        f"{format_day(exam_day).en} (Sat, Sun, holidays and closures not counted; days not counted: "
        f"{shift.skipped_text('en')}).")


def application_deadline(calendar: BusinessCalendar, exam_day: date) -> Deadline:
    """ODY-DL-1. Manual: 2021-02-25 → 2021-02-19 (2021-02-23 天皇誕生日 skipped)."""
    shift = calendar.business_days_before(exam_day, APPLICATION_DAYS)
    return Deadline("application", end_of_day(shift.day), "ODY-DL-1",
                    _counted(shift, APPLICATION_DAYS, exam_day, Msg("申込締切", "application deadline")))


def payment_deadline(calendar: BusinessCalendar, exam_day: date) -> Deadline:
    """ODY-DL-2: the remittance must reach the venue's deposit account by the same day."""
    shift = calendar.business_days_before(exam_day, APPLICATION_DAYS)
    return Deadline("payment", end_of_day(shift.day), "ODY-DL-2",
                    _counted(shift, APPLICATION_DAYS, exam_day, Msg("入金期日(申込締切日と同日)",
                                                                    "payment due date (the application deadline)")))


def self_exam_request_deadline(calendar: BusinessCalendar, exam_day: date) -> Deadline:
    """ODY-DL-4: a proctor's / staff member's own-venue exam needs a request by then."""
    shift = calendar.business_days_before(exam_day, SELF_EXAM_DAYS)
    return Deadline("self_exam_request", end_of_day(shift.day), "ODY-DL-4",
                    _counted(shift, SELF_EXAM_DAYS, exam_day, Msg("自校受験申請の期限", "self-exam request deadline")))


def late_addition_deadline(calendar: BusinessCalendar, exam_start: datetime, strict_13: bool = False) -> Deadline:
    """ODY-LA: the last moment a late addition (追加申込) can be confirmed."""
    start = jst(exam_start)
    day = start.date()
    afternoon = start.time() > LATE_ADDITION_PROCESSED_BY if strict_13 else start.time() >= LATE_ADDITION_PROCESSED_BY
    if afternoon and calendar.is_business_day(day):
        at = datetime.combine(day, LATE_ADDITION_CLOSE, JST)
        why = Msg(f"試験開始{start:%H:%M}は13:00以降で、試験日が営業日のため、当日12:00が追加申込の期限です(12:00締切・13:00までにインベントリ発行)。",
                  f"The exam starts at {start:%H:%M}, from 13:00, on a business day, so late additions close at 12:00 "
                  "the same day (requests close at 12:00, inventory issued by 13:00).")
        return Deadline("late_addition", at, "ODY-LA", why + Msg(f"期限: {moment(at).ja}。", f"Deadline: {moment(at).en}."))
    shift = calendar.business_days_before(day, 1)
    at = datetime.combine(shift.day, LATE_ADDITION_CLOSE, JST)
    if not calendar.is_business_day(day):
        closed = calendar.reason_closed(day)
        reason = Msg(f"試験日{format_day(day).ja}は{closed.ja}で追加申込の処理がないため",
                     f"the exam date {format_day(day).en} is {closed.en}, with no late-addition processing,")
    else:
        reason = Msg(f"試験開始{start:%H:%M}は13:00までの試験のため(当日の追加申込不可)",
                     f"the exam starts at {start:%H:%M}, not after 13:00 (no same-day late addition),")
    why = Msg(
        f"{reason.ja}、前営業日{format_day(shift.day).ja}の12:00が追加申込の期限です"
        f"(土日・祝日は処理されません。処理しない日: {shift.skipped_text('ja')})。",
        f"Because {reason.en} late additions close at 12:00 on the previous business day {format_day(shift.day).en} "
        f"(no processing on weekends and holidays; days skipped: {shift.skipped_text('en')}).")
    return Deadline("late_addition", at, "ODY-LA", why)


def exam_day_deadlines(calendar: BusinessCalendar, exam_start: datetime, strict_13: bool = False) -> list[Deadline]:
    """Every deadline kind of ``provider_deadlines``, after the ODY-DL-3 check."""
    day = jst(exam_start).date()
    check_exam_day(calendar, day)
    return [application_deadline(calendar, day), payment_deadline(calendar, day),
            late_addition_deadline(calendar, exam_start, strict_13), self_exam_request_deadline(calendar, day)]
