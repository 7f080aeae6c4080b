"""Exam-day calculators for the operator: late arrival (IPA-DAY-1) and equipment failure
(IPA-DAY-2, terms articles 14 and 15)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.sdk import Exam, Msg, jst, same_date_years_later

from plugins.cbt_ipa import text
from plugins.cbt_ipa.catalog import exam_name, parts

LATE_ADMISSION_MINUTES = 80
"""IPA-DAY-1: 試験開始時刻から80分以内であれば遅刻による入室制限はありません。"""
CONTINUE_WITHIN_MINUTES = 15
"""IPA-DAY-2 (1): back within 15 minutes of the failure being confirmed → continue."""
STOP_AFTER_MINUTES = 40
"""IPA-DAY-2 (3): not back after 40 minutes → the exam is stopped and transferred."""


def _minutes_between(start: datetime, end: datetime) -> float:
    return (jst(end) - jst(start)).total_seconds() / 60


@dataclass(frozen=True)
class LateArrival:
    admitted: bool
    minutes_late: float
    admitted_until: datetime
    exam_end: datetime
    first_part_minutes_left: float | None
    rule: str
    explanation: Msg


def late_arrival(exam: Exam, exam_start: datetime, arrived_at: datetime) -> LateArrival:
    """IPA-DAY-1: admitted until start + 80 min, with no extension of the end time.

    The arrival time is when the candidate reaches the venue's waiting area.
    """
    start = jst(exam_start)
    end = start + timedelta(minutes=exam.duration_minutes or 0)
    admitted_until = start + timedelta(minutes=LATE_ADMISSION_MINUTES)
    late = max(0.0, _minutes_between(start, arrived_at))
    admitted = jst(arrived_at) <= admitted_until
    first = parts(exam)[0]
    if not admitted:
        return LateArrival(False, late, admitted_until, end, None, "IPA-DAY-1", Msg(
            f"来場{text.moment(arrived_at).ja}は開始から{text.minutes(late).ja}後で、入室できる{text.moment(admitted_until).ja}"
            "(開始から80分)を過ぎています。受験できず、受験手数料は返還されません。他の日時への振替もできません。",
            f"Arrival at {text.moment(arrived_at).en} is {text.minutes(late).en} after the start, past the admission limit "
            f"{text.moment(admitted_until).en} (start + 80 min). The candidate cannot sit the exam; the fee is not "
            "refunded and no other date is offered."))
    if late == 0:
        return LateArrival(True, 0.0, admitted_until, end, float(first.minutes), "IPA-DAY-1", Msg(
            "遅刻ではありません。", "Not late.") + Msg(
            f"開始から80分({text.moment(admitted_until).ja})までは遅刻でも入室できます。",
            f"Late arrivals are admitted until {text.moment(admitted_until).en} (start + 80 min)."))
    left = max(0.0, first.minutes - late)
    return LateArrival(True, late, admitted_until, end, left, "IPA-DAY-1", Msg(
        f"開始から{text.minutes(late).ja}の遅刻ですが、80分以内({text.moment(admitted_until).ja}まで)のため入室できます。"
        f"終了時刻は繰り下げません({exam_name(exam).ja}の終了 {text.moment(end).ja})。"
        f"{first.label.ja}の残り時間は{text.minutes(left).ja}です。",
        f"{text.minutes(late).en} late, within 80 minutes (until {text.moment(admitted_until).en}), so the candidate "
        f"is admitted. The end time is not extended ({exam_name(exam).en} ends {text.moment(end).en}); "
        f"{text.minutes(left).en} remain for {first.label.en}."))


@dataclass(frozen=True)
class EquipmentFailure:
    outcome: str  # continue | wait_or_transfer | transfer | waiting
    minutes_down: float
    extension_minutes: float | None
    transfer_valid_until: date | None
    rule: str
    explanation: Msg


def transfer_valid_until(notice_on: date) -> date:
    """IPA-DAY-2 / terms article 15: a transfer covers exams held within 1 year of the notice."""
    return same_date_years_later(notice_on)


def _transfer_note(notice_on: date) -> Msg:
    until = transfer_valid_until(notice_on)
    return Msg(
        f"振替受験は、振替案内日{text.day(notice_on).ja}から1年間({text.day(until).ja}まで)に実施される試験を"
        "選んで新たに申し込みます。交通費は受験者負担です。",
        f"The transfer is a new application for any exam held within one year of the notice on "
        f"{text.day(notice_on).en} (until {text.day(until).en}); travel costs are the candidate's.")


def equipment_failure(confirmed_at: datetime, resumed_at: datetime | None, checked_at: datetime,
                      notice_on: date | None = None) -> EquipmentFailure:
    """IPA-DAY-2: ``resumed_at`` is when the exam could go on (``None``: still down at ``checked_at``)."""
    end = resumed_at if resumed_at is not None else checked_at
    down = max(0.0, _minutes_between(confirmed_at, end))
    notice = notice_on or jst(confirmed_at).date()
    since_ja = f"障害確認時点{text.moment(confirmed_at).ja}から{text.minutes(down).ja}"
    since_en = f"{text.minutes(down).en} after the failure was confirmed at {text.moment(confirmed_at).en}"

    def since(rest: Msg) -> Msg:
        return Msg(since_ja + rest.ja, since_en + rest.en)
    if down <= CONTINUE_WITHIN_MINUTES:
        if resumed_at is None:
            return EquipmentFailure("waiting", down, None, None, "IPA-DAY-2", since(Msg(
                "。15分以内に受験可能になれば継続受験となり、止まっていた時間だけ試験時間を延長します。",
                ": if the exam can go on within 15 minutes it continues, extended by the time lost.")))
        return EquipmentFailure("continue", down, down, None, "IPA-DAY-2", since(Msg(
            f"で受験可能になったため継続受験です。障害直前に解答した問題から再開し、試験時間を{text.minutes(down).ja}延長します。",
            f": back within 15 minutes, so the exam continues from the last question answered, extended by {text.minutes(down).en}.")))
    if down <= STOP_AFTER_MINUTES:
        return EquipmentFailure("wait_or_transfer", down, down if resumed_at is not None else None,
                                transfer_valid_until(notice), "IPA-DAY-2", since(Msg(
            "経過(15分超)のため、受験者は復旧を待つか、別の試験日に振替えるかを選べます(40分を超えると中止・振替)。",
            ": more than 15 minutes, so the candidate may wait for the repair or transfer to another date "
            "(after 40 minutes the exam is stopped and transferred).")) + _transfer_note(notice))
    return EquipmentFailure("transfer", down, None, transfer_valid_until(notice), "IPA-DAY-2", since(Msg(
        "経過(40分超)のため、試験は中止となり別の試験日への振替受験となります。",
        ": more than 40 minutes, so the exam is stopped and the candidate transfers to another date.")) + _transfer_note(notice))
