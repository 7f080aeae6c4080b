"""IPA's answer to "may this booking transition happen?" (hook ``provider_booking_decision``).

The core asks before booking a session and before moving a booking (and for every session
its forms offer, so the pages show why a date is refused):

- IPA-RT-1: no new application for the same exam while one is open (its end not passed);
- IPA-RT-2: after sitting (pass or fail; a sitting whose outcome was never recorded counts
  as sat, only a recorded absence is exempt), the next exam date is the previous exam
  date + 31 days at the earliest;
- IPA-CH-2 / IPA-CH-3: no date after the last selectable date (one year from the first
  application or the voucher's issue date; an FE subject A exemption's last valid day);
- IPA-CH-1: a new date for a change must be outside its own change lock; a booking made
  within 2 days of the exam can never be changed (a note, not a refusal);
- IPA-CH-4: a change needs a free seat at the new date and venue;
- IPA-PAY: a voucher past its expiry date can no longer be used.
"""
from __future__ import annotations

from datetime import date, datetime

from portal.sdk import AttemptFact, BookingDecision, BookingFacts, Msg, RetakeQuery, providers, jst

from plugins.cbt_ipa import text
from plugins.cbt_ipa.catalog import FE
from plugins.cbt_ipa.change_window import LastSelectable, change_deadline, last_selectable_date
from plugins.cbt_ipa.policy import voucher_usable

Reason = tuple[str, Msg]


def _sittings(facts: BookingFacts) -> tuple[list[AttemptFact], datetime | None]:
    """The candidate's sittings for IPA-RT-2 and the end of an application still open (IPA-RT-1)."""
    at = jst(facts.at)
    attempts: list[AttemptFact] = []
    open_end: datetime | None = None
    for s in facts.history:
        if s.outcome is not None:
            attempts.append(AttemptFact(jst(s.start), jst(s.end), s.outcome))
        elif jst(s.end) > at:
            open_end = max(open_end, jst(s.end)) if open_end else jst(s.end)
        else:
            attempts.append(AttemptFact(jst(s.start), jst(s.end), "failed"))  # sat, outcome not recorded
    return attempts, open_end


def _retake(ctx, facts: BookingFacts, start: datetime) -> list[Reason]:
    attempts, open_end = _sittings(facts)
    reasons: list[Reason] = []
    if open_end is not None and facts.status is None:
        reasons.append(("IPA-RT-1", Msg(
            f"申込済の試験の終了時刻{text.moment(open_end).ja}を過ぎるまで再申込できません(IPA-RT-1)。",
            f"No new application before the booked exam ends at {text.moment(open_end).en} (IPA-RT-1).")))
    if attempts:
        retake = providers().retake(ctx, RetakeQuery(facts.exam, attempts, facts.at))
        if retake.earliest is not None and jst(start) < retake.earliest:
            reasons.append((retake.rule, Msg(
                f"再受験日{text.moment(retake.earliest).ja}より前です({retake.rule})。",
                f"Before the retake date {text.moment(retake.earliest).en} ({retake.rule}).")))
    return reasons


def _exemption(facts: BookingFacts, exam: str) -> tuple[date | None, list[Reason]]:
    exemption = facts.fact("exemption_valid_until")
    if exemption is not None and exam != FE:
        return None, [("IPA-CH-3", Msg("科目A免除があるのは基本情報技術者試験(FE)だけです。",
                                      "Only FE has a subject A exemption."))]
    return exemption, []


def _limit(facts: BookingFacts, exam: str) -> tuple[LastSelectable | None, list[Reason]]:
    """IPA-CH-2/3 for the booking (or the one asked for)."""
    exemption, reasons = _exemption(facts, exam)
    if facts.payment.method == "voucher":
        issued = facts.fact("voucher_issued_on")
        if issued is None:
            return None, reasons + [("IPA-CH-2", Msg("バウチャー発行日を入力してください(IPA-CH-2)。",
                                                    "Enter the voucher issue date (IPA-CH-2)."))]
        return last_selectable_date(None, issued, exemption), reasons
    first = facts.first_booked_at or facts.at
    return last_selectable_date(jst(first).date(), None, exemption), reasons


def _after_limit(limit: LastSelectable | None, start: datetime) -> list[Reason]:
    if limit is None or jst(start).date() <= limit.day:
        return []
    return [(limit.rule, Msg(f"選択できる最後の試験日{text.day(limit.day).ja}より後です({limit.rule})。",
                             f"After the last selectable date {text.day(limit.day).en} ({limit.rule}).") + limit.explanation)]


def _voucher(facts: BookingFacts) -> list[Reason]:
    if facts.payment.method == "voucher" and not voucher_usable(facts.fact("voucher_expires_on"), jst(facts.at).date()):
        return [("IPA-PAY", Msg("バウチャーの有効期限が切れています。利用も返金もできません(IPA-PAY)。",
                                "The voucher has expired: it can be neither used nor refunded (IPA-PAY)."))]
    return []


def _answer(reasons: list[Reason], notes: list[Msg] | None = None) -> BookingDecision:
    if reasons:
        rules = ",".join(dict.fromkeys(r for rule, _ in reasons for r in rule.split(",")))
        return BookingDecision(False, rules, Msg.join([m for _, m in reasons]))
    return BookingDecision(True, "IPA-RT-1,IPA-RT-2,IPA-CH-2", Msg("", ""), tuple(notes or ()))


def book(ctx, facts: BookingFacts) -> BookingDecision:
    start = facts.session.start
    limit, reasons = _limit(facts, facts.exam)
    reasons += _voucher(facts) + _retake(ctx, facts, start) + _after_limit(limit, start)
    notes = []
    if jst(facts.at) > change_deadline(start):
        notes.append(Msg("2日後までの試験: 申込後は一切変更できません(IPA-CH-1)。",
                         "Within 2 days: once booked it can never be changed (IPA-CH-1)."))
    return _answer(reasons, notes)


def change(ctx, facts: BookingFacts) -> BookingDecision | None:
    target = facts.target
    if target is None:
        return None
    limit, reasons = _limit(facts, facts.exam)
    if jst(facts.at) > change_deadline(target.start):
        reasons.append(("IPA-CH-1", Msg("2日後までの試験のため、変更先に選べません(IPA-CH-1)。",
                                        "Within 2 days: inside its change lock, it cannot be a new date (IPA-CH-1).")))
    reasons += _after_limit(limit, target.start) + _retake(ctx, facts, target.start)
    if target.seats_left <= 0:
        reasons.append(("IPA-CH-4", Msg("空席がありません(IPA-CH-4)。", "No free seat (IPA-CH-4).")))
    return _answer(reasons)


def decide(ctx, action: str, facts: BookingFacts) -> BookingDecision | None:
    if action == "book":
        return book(ctx, facts)
    if action == "change":
        return change(ctx, facts)
    return None
