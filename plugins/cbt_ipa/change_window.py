"""When a booking may be changed and which exam dates it may move to.

IPA-CH-1: changes (venue, date, time) until 3 calendar days before the exam date, through
the end of that day; none from 2 days before through the exam day; a booking made for an
exam within 2 days can never be changed.
IPA-CH-2: the last selectable exam date is the first application date + 1 year (the same
calendar date; 29 Feb → 28 Feb), for a voucher booking the voucher issue date + 1 year.
IPA-CH-3: FE with subject A exemption: the exemption's last valid day, never past IPA-CH-2.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.sdk import BusinessCalendar, Msg, end_of_day, jst, same_date_years_later

from plugins.cbt_ipa import text

CHANGE_DAYS_BEFORE = 3
"""IPA-CH-1: 試験日の3日前まで (calendar days)."""


def change_deadline(exam_start: datetime) -> datetime:
    """IPA-CH-1: 23:59:59 JST of the 3rd calendar day before the exam date."""
    return end_of_day(jst(exam_start).date() - timedelta(days=CHANGE_DAYS_BEFORE))


def booked_inside_lock(booked_at: datetime, exam_start: datetime) -> bool:
    """IPA-CH-1: booked on or after the 2nd day before the exam (never changeable)."""
    return jst(booked_at) > change_deadline(exam_start)


def deadline_explanation(calendar: BusinessCalendar, exam_start: datetime) -> Msg:
    """Names the deadline day, the locked days and the weekends / holidays counted."""
    exam_day = jst(exam_start).date()
    last_day = change_deadline(exam_start).date()
    lock_start = last_day + timedelta(days=1)
    counted = [(d, calendar.reason_closed(d)) for d in (exam_day - timedelta(days=n) for n in (3, 2, 1))]
    counted = [(d, why) for d, why in counted if why is not None]
    note = Msg("", "")
    if counted:
        note = Msg(
            "暦日で数えるため、" + "、".join(f"{text.day(d).ja} {why.ja}" for d, why in counted) + " も1日と数えます。",
            "Calendar days are counted, so " + ", ".join(f"{text.day(d).en} ({why.en})" for d, why in counted)
            + " count as days too.")
    return Msg(
        f"試験日{text.day(exam_day).ja}の3日前、{text.day(last_day).ja} 23:59:59まで会場・日時を変更できます。"
        f"{text.day(lock_start).ja}(2日前)から試験日当日までは一切変更できません(IPA-CH-1)。",
        f"The venue and date can be changed until 23:59:59 on {text.day(last_day).en}, 3 calendar days before the "
        f"exam on {text.day(exam_day).en}; from {text.day(lock_start).en} (2 days before) through the exam day "
        f"nothing can be changed (IPA-CH-1).",
    ) + note


@dataclass(frozen=True)
class LastSelectable:
    """The last exam date a booking may be moved to, and why."""

    day: date
    rule: str
    explanation: Msg


def _one_year(start: date, what: Msg) -> Msg:
    last = same_date_years_later(start)
    leap = Msg("", "")
    if (start.month, start.day) == (2, 29):
        leap = Msg("(2月29日の1年後は2月28日)", "(29 February: one year later is 28 February)")
    return Msg(f"{what.ja}{text.day(start).ja}の1年後(同じ日付){text.day(last).ja}", 
               f"{text.day(last).en}, one year (same date) after {what.en} {text.day(start).en}") + leap


def last_selectable_date(first_applied_on: date | None, voucher_issued_on: date | None = None,
                         exemption_valid_until: date | None = None) -> LastSelectable:
    """IPA-CH-2 (and IPA-CH-3 for an FE subject A exemption).

    ``voucher_issued_on`` is given for a voucher booking: its year replaces the first
    application's. Exactly one of ``first_applied_on`` / ``voucher_issued_on`` is needed.
    """
    if voucher_issued_on is not None:
        base = same_date_years_later(voucher_issued_on)
        why = _one_year(voucher_issued_on, Msg("バウチャー発行日", "the voucher issue date"))
    elif first_applied_on is not None:
        base = same_date_years_later(first_applied_on)
        why = _one_year(first_applied_on, Msg("初回申込日", "the first application date"))
    else:
        raise ValueError("first_applied_on or voucher_issued_on is needed")
    head = Msg("選択できる最後の試験日は", "The last selectable exam date is")
    if exemption_valid_until is not None and exemption_valid_until < base:
        return LastSelectable(exemption_valid_until, "IPA-CH-2,IPA-CH-3", head + Msg(
            f"科目A免除の有効期間の最終日{text.day(exemption_valid_until).ja}です({why.ja}より前のため)。",
            f"{text.day(exemption_valid_until).en}, the last valid day of the subject A exemption "
            f"(earlier than {why.en})."))
    if exemption_valid_until is not None:
        return LastSelectable(base, "IPA-CH-2,IPA-CH-3", head + Msg(
            f"{why.ja}です(科目A免除の有効期間の最終日{text.day(exemption_valid_until).ja}はそれより後のため、1年の上限が優先)。",
            f"{why.en} (the subject A exemption runs until {text.day(exemption_valid_until).en}, later, so the "
            f"one-year limit applies)."))
    return LastSelectable(base, "IPA-CH-2", head + Msg(f"{why.ja}です。", f"{why.en}."))
