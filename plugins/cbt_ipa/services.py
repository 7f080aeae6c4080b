"""Stored IPA bookings: book, change and record the outcome, each one unit of work run by
the caller inside :func:`portal.sdk.db.transaction`. Rule decisions come from the provider's
hooks through the core registry (so wrapping plugins still apply); seats, stored
deadlines and the audit trail reuse :mod:`portal.bookings`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from portal.sdk import (
    Attempt, AttemptFact, BadInput, Booking, Exam, ExamSession, Msg, PolicyDecision, PolicyFacts, RetakeQuery,
    RuleContext, RuleRefusal, audit, bookings as core, jst, providers,
)

from plugins.cbt_ipa import picker
from plugins.cbt_ipa.catalog import FE
from plugins.cbt_ipa.change_window import LastSelectable, last_selectable_date
from plugins.cbt_ipa.models import CbtIpaBookingFacts
from plugins.cbt_ipa.policy import TARGET_SEAT_FACT, last_selectable_for, voucher_usable

PROVIDER_ID = "cbt_ipa"
OUTCOMES = ("passed", "failed", "absent")


# --------------------------------------------------------------------------- facts


def stored_facts(db: Session, booking: Booking) -> CbtIpaBookingFacts | None:
    return db.exec(select(CbtIpaBookingFacts).where(CbtIpaBookingFacts.booking_id == booking.id,
                                                    CbtIpaBookingFacts.organization_id == booking.organization_id)).first()


def booking_facts(db: Session, booking: Booking, exam_session: ExamSession, at: datetime,
                  target: ExamSession | None = None) -> PolicyFacts:
    """The core's facts of a booking plus the IPA ones this plugin stores."""
    facts = core.facts_for(booking, exam_session, at, target)
    extra = stored_facts(db, booking)
    return dataclasses.replace(
        facts,
        voucher_issued_on=extra.voucher_issued_on if extra else None,
        exemption_valid_until=extra.exemption_valid_until if extra else None,
        raw={TARGET_SEAT_FACT: target.seats_left > 0} if target is not None else {},
    )


def policy_for(db: Session, booking: Booking, exam_session: ExamSession, at: datetime,
               target: ExamSession | None = None) -> PolicyDecision:
    ctx = core.org_context(db, booking.organization_id, PROVIDER_ID)
    return providers().policy(ctx, booking_facts(db, booking, exam_session, at, target))


def history(db: Session, organization_id: int, candidate_id: int, exam: str, now: datetime,
            exclude_booking_id: int | None = None) -> tuple[list[AttemptFact], datetime | None]:
    """A candidate's sittings of ``exam`` and the end of an application still open.

    Recorded outcomes come from the core ``Attempt`` table; a booked exam that is over
    without a recorded outcome counts as sat (IPA-RT-2 applies pass or fail; only a
    recorded absence is exempt)."""
    rows = db.exec(select(Attempt).where(Attempt.organization_id == organization_id, Attempt.candidate_id == candidate_id,
                                         Attempt.provider == PROVIDER_ID, Attempt.exam == exam)).all()
    attempts = [AttemptFact(jst(a.start), jst(a.end), a.outcome) for a in rows]
    recorded = {a.start for a in attempts}
    open_end: datetime | None = None
    booked = db.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == organization_id, Booking.candidate_id == candidate_id,
        Booking.provider == PROVIDER_ID, Booking.exam == exam, Booking.status.in_(core.ACTIVE))).all()
    for booking, exam_session in booked:
        if booking.id == exclude_booking_id:
            continue
        end = jst(exam_session.end)
        if end > jst(now):
            open_end = max(open_end, end) if open_end else end
        elif jst(exam_session.start) not in recorded:
            attempts.append(AttemptFact(jst(exam_session.start), end, "failed"))  # sat, outcome not recorded
    return attempts, open_end


def _retake(ctx: RuleContext, exam: str, attempts: list[AttemptFact], now: datetime):
    return providers().retake(ctx, RetakeQuery(exam, attempts, now)) if attempts else None


# --------------------------------------------------------------------------- sessions


def create_session(db: Session, organization_id: int, user_id: int | None, exam: Exam, start: datetime, venue: str,
                   capacity: int | None) -> ExamSession:
    """A session (exam, start, venue, seats) the organisation can book candidates on."""
    venue = (venue or "").strip()
    if not venue:
        raise BadInput("missing_field", Msg("会場を入力してください。", "Enter the venue."), "venue")
    if capacity is None or not 1 <= capacity <= 1000:
        raise BadInput("invalid_field", Msg("座席数は1〜1000です。", "Seats must be 1 to 1000."), "capacity")
    # The end time is computed from the catalog: FE 90 + 10 + 100 min, SG 120 min.
    row = ExamSession(organization_id=organization_id, provider=PROVIDER_ID, exam=exam.code, venue=venue[:200],
                      start=start, end=start + timedelta(minutes=exam.duration_minutes or 0), capacity=capacity)
    db.add(row)
    db.flush()
    audit.record(db, organization_id, user_id, "create", "exam_session", row.id, None, audit.snapshot(row))
    return row


# --------------------------------------------------------------------------- new booking


@dataclass
class BookingInput:
    candidate_id: int | None
    exam: str
    payment_method: str
    voucher_issued_on: date | None = None
    voucher_expires_on: date | None = None
    exemption_valid_until: date | None = None


def new_booking_rules(db: Session, organization_id: int, data: BookingInput, now: datetime) -> picker.PickerRules:
    """What limits the dates of a new application (IPA-RT-1/2, IPA-CH-2/3, IPA-PAY)."""
    ctx = core.org_context(db, organization_id, PROVIDER_ID)
    ctx.exam(data.exam)
    extra: list[Msg] = []
    retake, open_end = None, None
    if data.candidate_id is not None:
        attempts, open_end = history(db, organization_id, data.candidate_id, data.exam, now)
        retake = _retake(ctx, data.exam, attempts, now)
    limit: LastSelectable | None = None
    exemption = data.exemption_valid_until if data.exam == FE else None
    if data.payment_method == "voucher":
        if data.voucher_issued_on is None:
            extra.append(Msg("バウチャー発行日を入力してください(IPA-CH-2)。", "Enter the voucher issue date (IPA-CH-2)."))
        else:
            limit = last_selectable_date(None, data.voucher_issued_on, exemption)
        if not voucher_usable(data.voucher_expires_on, jst(now).date()):
            extra.append(Msg("バウチャーの有効期限が切れています。利用も返金もできません(IPA-PAY)。",
                             "The voucher has expired: it can be neither used nor refunded (IPA-PAY)."))
    else:
        limit = last_selectable_date(jst(now).date(), None, exemption)
    return picker.PickerRules(now=now, retake=retake, limit=limit, open_application_end=open_end,
                              extra_reasons=tuple(extra))


def book(db: Session, organization_id: int, user_id: int | None, data: BookingInput,
         new: core.NewBooking, now: datetime) -> Booking:
    """Book ``new.session_id`` after the IPA checks; the seat, voucher reuse, stored
    deadline and audit entry are the core's."""
    exam_session = db.get(ExamSession, new.session_id)
    if exam_session is None or exam_session.organization_id != organization_id or exam_session.provider != PROVIDER_ID:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    if data.exemption_valid_until is not None and exam_session.exam != FE:
        raise BadInput("invalid_field", Msg("科目A免除があるのは基本情報技術者試験(FE)だけです。",
                                            "Only FE has a subject A exemption."), "exemption_valid_until")
    data = dataclasses.replace(data, exam=exam_session.exam, candidate_id=new.candidate_id)
    choice = picker.verdict(picker.choices([exam_session], new_booking_rules(db, organization_id, data, now)), exam_session.id)
    if choice is None:
        raise RuleRefusal("session_started", Msg("開始済みの回には予約できません。", "This session has already started."), "session_id")
    if not choice.allowed:
        raise RuleRefusal("date_refused", Msg.join(list(choice.reasons)), "session_id")
    booking = core.book(db, organization_id, user_id, new)
    row = CbtIpaBookingFacts(organization_id=organization_id, booking_id=booking.id,
                             voucher_issued_on=data.voucher_issued_on if new.payment_method == "voucher" else None,
                             voucher_expires_on=data.voucher_expires_on if new.payment_method == "voucher" else None,
                             exemption_valid_until=data.exemption_valid_until)
    db.add(row)
    db.flush()
    audit.record(db, organization_id, user_id, "ipa_facts", "booking", booking.id, None, audit.snapshot(row))
    return booking


# --------------------------------------------------------------------------- change


def change_rules(db: Session, booking: Booking, exam_session: ExamSession, now: datetime,
                 decision: PolicyDecision) -> picker.PickerRules:
    """What limits the new date of an existing booking (IPA-CH-1..4, IPA-RT-2)."""
    ctx = core.org_context(db, booking.organization_id, PROVIDER_ID)
    facts = booking_facts(db, booking, exam_session, now)
    attempts, _ = history(db, booking.organization_id, booking.candidate_id, booking.exam, now, exclude_booking_id=booking.id)
    refusal = None if decision.change.allowed else Msg("この予約は変更できません。", "This booking cannot be changed.")
    return picker.PickerRules(now=now, retake=_retake(ctx, booking.exam, attempts, now),
                              limit=last_selectable_for(facts, facts.need("payment")), changing=True,
                              change_refusal=refusal, current_session_id=exam_session.id)


def change(db: Session, booking: Booking, target_id: int, user_id: int | None, now: datetime) -> PolicyDecision:
    old = db.get(ExamSession, booking.session_id)
    target = db.get(ExamSession, target_id)
    if target is None or target.organization_id != booking.organization_id or target.provider != PROVIDER_ID:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    if target.exam != booking.exam:
        raise RuleRefusal("exam_fixed", Msg("変更できるのは会場と日時だけです(試験区分は変更できません)。",
                                            "Only the venue and date can change, not the exam."), "session_id")
    if booking.status not in core.ACTIVE:
        raise RuleRefusal("not_active", Msg("この予約は有効ではありません。", "This booking is not active."), None)
    decision = policy_for(db, booking, old, now)
    choice = picker.verdict(picker.choices([target], change_rules(db, booking, old, now, decision)), target.id)
    if choice is None or not choice.allowed:
        reasons = list(choice.reasons) if choice else [Msg("開始済みの回です。", "That session has started.")]
        if not decision.change.allowed:
            reasons = [decision.change.explanation]
        raise RuleRefusal("change_refused", Msg.join(reasons), "session_id")
    decision = policy_for(db, booking, old, now, target)
    if not decision.change.allowed:
        raise RuleRefusal("change_refused", decision.change.explanation, "session_id")
    before = audit.snapshot(booking)
    core.take_seat(db, target.id)
    core.release_seat(db, old.id)
    booking.session_id = target.id
    booking.booked_at = now
    core.store_deadlines(db, core.org_context(db, booking.organization_id, PROVIDER_ID), booking, target)
    audit.record(db, booking.organization_id, user_id, "change", "booking", booking.id, before, audit.snapshot(booking))
    return decision


# --------------------------------------------------------------------------- outcome


def record_outcome(db: Session, booking: Booking, outcome: str, user_id: int | None, now: datetime) -> Attempt:
    """Record how the booked exam went (passed / failed / absent) for IPA-RT-2."""
    if outcome not in OUTCOMES:
        raise BadInput("invalid_field", Msg("結果を選んでください。", "Choose the outcome."), "outcome")
    exam_session = db.get(ExamSession, booking.session_id)
    if booking.status not in core.ACTIVE or jst(exam_session.start) > jst(now):
        raise RuleRefusal("not_sat_yet", Msg("試験の開始後に結果を記録できます。", "The outcome can be recorded once the exam has started."), "outcome")
    row = db.exec(select(Attempt).where(Attempt.organization_id == booking.organization_id,
                                        Attempt.candidate_id == booking.candidate_id, Attempt.provider == PROVIDER_ID,
                                        Attempt.exam == booking.exam, Attempt.start == exam_session.start)).first()
    before = audit.snapshot(row) if row else None
    if row is None:
        row = Attempt(organization_id=booking.organization_id, candidate_id=booking.candidate_id, provider=PROVIDER_ID,
                      exam=booking.exam, start=exam_session.start, end=exam_session.end, outcome=outcome)
    row.outcome = outcome
    db.add(row)
    db.flush()
    audit.record(db, booking.organization_id, user_id, "outcome", "attempt", row.id, before, audit.snapshot(row))
    return row
