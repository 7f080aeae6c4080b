"""The date picker: every upcoming session of an exam, allowed or not, and why.

Pure: given the sessions and the rule answers (retake wait, last selectable date, an
open application, the change lock), each session becomes a :class:`DateChoice`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from portal.sdk import Msg, RetakeDecision, jst

from plugins.cbt_ipa import text
from plugins.cbt_ipa.change_window import LastSelectable, change_deadline


@dataclass(frozen=True)
class DateChoice:
    session: Any  # portal.models.ExamSession
    allowed: bool
    reasons: tuple[Msg, ...] = ()  # why not
    notes: tuple[Msg, ...] = ()    # allowed, but worth knowing
    current: bool = False


@dataclass(frozen=True)
class PickerRules:
    now: datetime
    retake: RetakeDecision | None = None
    limit: LastSelectable | None = None
    #: IPA-RT-1: an application of the same exam still open (its end time not yet passed).
    open_application_end: datetime | None = None
    #: Moving an existing booking: the booking's own change decision and current session.
    changing: bool = False
    change_refusal: Msg | None = None
    current_session_id: int | None = None
    extra_reasons: tuple[Msg, ...] = field(default=())


def _reasons(s, rules: PickerRules) -> list[Msg]:
    start = jst(s.start)
    day = start.date()
    why: list[Msg] = list(rules.extra_reasons)
    if rules.change_refusal is not None:
        why.append(rules.change_refusal)
    if rules.open_application_end is not None:
        why.append(Msg(f"申込済の試験の終了時刻{text.moment(rules.open_application_end).ja}を過ぎるまで再申込できません(IPA-RT-1)。",
                       f"No new application before the booked exam ends at {text.moment(rules.open_application_end).en} (IPA-RT-1)."))
    if rules.retake is not None and rules.retake.earliest is not None and start < rules.retake.earliest:
        why.append(Msg(f"再受験日{text.moment(rules.retake.earliest).ja}より前です({rules.retake.rule})。",
                       f"Before the retake date {text.moment(rules.retake.earliest).en} ({rules.retake.rule})."))
    if rules.limit is not None and day > rules.limit.day:
        why.append(Msg(f"選択できる最後の試験日{text.day(rules.limit.day).ja}より後です({rules.limit.rule})。",
                       f"After the last selectable date {text.day(rules.limit.day).en} ({rules.limit.rule})."))
    if rules.changing and rules.now > change_deadline(s.start):
        why.append(Msg("2日後までの試験のため、変更先に選べません(IPA-CH-1)。",
                       "Within 2 days: inside its change lock, it cannot be a new date (IPA-CH-1)."))
    if s.seats_left <= 0:
        why.append(Msg("空席がありません(IPA-CH-4)。", "No free seat (IPA-CH-4).") if rules.changing
                   else Msg("空席がありません(空きのない日は予約できません)。", "No free seat: a full date cannot be booked."))
    return why


def _notes(s, rules: PickerRules) -> list[Msg]:
    if not rules.changing and rules.now > change_deadline(s.start):
        return [Msg("2日後までの試験: 申込後は一切変更できません(IPA-CH-1)。",
                    "Within 2 days: once booked it can never be changed (IPA-CH-1).")]
    return []


def choices(sessions: Sequence[Any], rules: PickerRules) -> list[DateChoice]:
    """Upcoming sessions (start after ``rules.now``) in date order, each with its verdict."""
    result = []
    for s in sorted(sessions, key=lambda s: (s.start, s.venue, s.id)):
        if jst(s.start) <= jst(rules.now):
            continue
        if s.id == rules.current_session_id:
            result.append(DateChoice(s, False, (Msg("現在の予約です。", "The current booking."),), current=True))
            continue
        why = _reasons(s, rules)
        result.append(DateChoice(s, not why, tuple(why), tuple(_notes(s, rules)) if not why else ()))
    return result


def verdict(choice_list: Sequence[DateChoice], session_id: int) -> DateChoice | None:
    return next((c for c in choice_list if c.session.id == session_id), None)
