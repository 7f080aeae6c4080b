"""Bookings on exam sessions: seats, stored deadlines, change, cancel, lapse.

Every rule decision comes from the provider's hooks through :mod:`portal.providers`;
this module only keeps the stored state consistent with those answers. Each public
function is one unit of work run inside :func:`portal.db.transaction` by its caller.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable

from sqlalchemy import update
from sqlmodel import Session, select

from portal import audit, crypto
from portal.models import (
    Booking, BookingDeadline, CatalogEntry, ClosureDay, ExamSession, ProviderSettingValue, RefundAccount,
)
from portal.providers import RuleContext
from portal.rules import (
    Exam, ClosureRule, DeadlineQuery, Msg, Payment, PolicyDecision, PolicyFacts, RuleRefusal, jst,
)
from portal.rules.parse import now_jst
from portal.providers import current as providers

ACTIVE = ("booked",)




class SeatTaken(RuleRefusal):
    def __init__(self):
        super().__init__("no_seat", Msg("この回は満席です。", "This session is full."), "session_id")


# --------------------------------------------------------------------------- context


def closure_rules(db: Session, organization_id: int, provider_id: str) -> list[ClosureRule]:
    rows = db.exec(select(ClosureDay).where(ClosureDay.organization_id == organization_id,
                                            ClosureDay.provider == provider_id)).all()
    return [ClosureRule(r.start_date, r.end_date, Msg(r.label_ja, r.label_en or r.label_ja), r.yearly) for r in rows]


def settings(db: Session, organization_id: int, provider_id: str) -> dict:
    rows = db.exec(select(ProviderSettingValue).where(ProviderSettingValue.organization_id == organization_id,
                                                      ProviderSettingValue.provider == provider_id)).all()
    return {r.key: r.value for r in rows if not r.key.startswith("_")}  # "_…" keys are the core's own


def catalog(db: Session, organization_id: int, provider_id: str) -> list[Exam]:
    """The organisation's catalog: the plugin's own (hook ``provider_catalog``) or the
    plugin's catalog data with the organisation's edits and additions applied."""
    base = providers().default_context(provider_id)
    own = providers().catalog(base, organization_id)
    if own is not None:
        return list(own)
    edits = {e.code: e for e in db.exec(select(CatalogEntry).where(
        CatalogEntry.organization_id == organization_id, CatalogEntry.provider == provider_id)).all()}
    exams = []
    for exam in providers().info(provider_id).exams:
        edit = edits.pop(exam.code, None)
        exams.append(exam if edit is None else replace(
            exam, name=edit.name, price=edit.price, duration_minutes=edit.duration_minutes or exam.duration_minutes))
    exams.extend(Exam(e.code, e.name, e.price, e.duration_minutes) for e in edits.values())
    return exams


def org_context(db: Session, organization_id: int, provider_id: str) -> RuleContext:
    """The provider's rules as this organisation configured them (closures, settings, catalog)."""
    return providers().context(provider_id, closure_rules(db, organization_id, provider_id),
                               settings(db, organization_id, provider_id), catalog(db, organization_id, provider_id))


# --------------------------------------------------------------------------- seats


def take_seat(db: Session, session_id: int) -> None:
    """Take one seat with a single conditional UPDATE: of two racing operators exactly
    one matches ``seats_taken < capacity`` for the last seat; the other gets SeatTaken."""
    result = db.execute(
        update(ExamSession)
        .where(ExamSession.id == session_id, ExamSession.seats_taken < ExamSession.capacity)
        .values(seats_taken=ExamSession.seats_taken + 1)
    )
    if result.rowcount != 1:
        raise SeatTaken()


def release_seat(db: Session, session_id: int) -> None:
    db.execute(update(ExamSession).where(ExamSession.id == session_id, ExamSession.seats_taken > 0)
               .values(seats_taken=ExamSession.seats_taken - 1))


# --------------------------------------------------------------------------- deadlines


def store_deadlines(db: Session, ctx: RuleContext, booking: Booking, exam_session: ExamSession) -> None:
    for old in db.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking.id)).all():
        db.delete(old)
    db.flush()
    answers = providers().deadlines(ctx, DeadlineQuery(exam_session.exam, exam_session.start))
    for d in answers:
        db.add(BookingDeadline(organization_id=booking.organization_id, booking_id=booking.id, kind=d.kind, at=d.at,
                               rule=d.rule, explanation_ja=d.explanation.ja, explanation_en=d.explanation.en))
    booking.next_deadline_at = min((d.at for d in answers), default=None)
    db.add(booking)


def recompute_deadlines(db: Session, organization_id: int, provider_id: str) -> int:
    """Closures, settings or catalog changed: every plugin recomputes what it stores
    (hook ``provider_recompute``; the core's bookings below through the default plugin)."""
    return providers().recompute(org_context(db, organization_id, provider_id), organization_id)


def recompute_booking_deadlines(db: Session, ctx: RuleContext, organization_id: int) -> int:
    """Recompute the stored deadlines of the provider's active bookings."""
    provider_id = ctx.provider.id
    rows = db.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == organization_id, Booking.provider == provider_id, Booking.status.in_(ACTIVE))).all()
    for booking, exam_session in rows:
        store_deadlines(db, ctx, booking, exam_session)
    return len(rows)


# --------------------------------------------------------------------------- policy


def facts_for(booking: Booking, exam_session: ExamSession, at: datetime | None = None,
              target: ExamSession | None = None) -> PolicyFacts:
    return PolicyFacts(
        at=at or now_jst(), exam=booking.exam, exam_start=exam_session.start, booked_at=booking.booked_at,
        first_booked_at=booking.first_booked_at,
        payment=Payment(booking.payment_method, booking.paid, booking.amount, booking.payment_due_at),
        target_exam_start=target.start if target else None,
    )


def policy_for(db: Session, booking: Booking, exam_session: ExamSession, at: datetime | None = None,
               target: ExamSession | None = None) -> PolicyDecision:
    ctx = org_context(db, booking.organization_id, booking.provider)
    return providers().policy(ctx, facts_for(booking, exam_session, at, target))


# --------------------------------------------------------------------------- actions


@dataclass
class NewBooking:
    candidate_id: int
    session_id: int
    payment_method: str
    paid: bool
    amount: int | None
    payment_due_at: datetime | None
    voucher_code: str | None


def book(db: Session, organization_id: int, user_id: int | None, data: NewBooking) -> Booking:
    exam_session = db.get(ExamSession, data.session_id)
    if exam_session is None or exam_session.organization_id != organization_id:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    now = now_jst()
    if exam_session.start <= now:
        raise RuleRefusal("session_started", Msg("開始済みの回には予約できません。", "This session has already started."), "session_id")
    ctx = org_context(db, organization_id, exam_session.provider)
    if data.payment_method not in ctx.provider.payment_methods:
        raise RuleRefusal("payment_method", Msg("この支払方法は使えません。", "This payment method is not offered."), "payment_method")
    if data.payment_method == "voucher":
        _check_voucher_free(db, organization_id, exam_session.provider, data.voucher_code, now)
    take_seat(db, exam_session.id)
    booking = Booking(organization_id=organization_id, candidate_id=data.candidate_id, session_id=exam_session.id,
                      provider=exam_session.provider, exam=exam_session.exam, payment_method=data.payment_method,
                      paid=data.paid, amount=data.amount, payment_due_at=data.payment_due_at,
                      booked_at=now, first_booked_at=now, voucher_code=data.voucher_code)
    db.add(booking)
    db.flush()
    store_deadlines(db, ctx, booking, exam_session)
    audit.record(db, organization_id, user_id, "book", "booking", booking.id, None, audit.snapshot(booking))
    return booking


def _check_voucher_free(db: Session, organization_id: int, provider_id: str, code: str | None, now: datetime) -> None:
    if not code:
        raise RuleRefusal("voucher_required", Msg("受験チケット番号を入力してください。", "Enter the voucher number."), "voucher_code")
    rows = db.exec(select(Booking).where(Booking.organization_id == organization_id, Booking.provider == provider_id,
                                         Booking.voucher_code == code)).all()
    for other in rows:
        if other.status in ACTIVE:
            raise RuleRefusal("voucher_in_use", Msg("この受験チケットは別の予約で使用中です。",
                                                    "This voucher is used by another booking."), "voucher_code")
        if other.voucher_reusable_at is not None and now < other.voucher_reusable_at:
            at = jst(other.voucher_reusable_at).strftime("%Y-%m-%d %H:%M")
            raise RuleRefusal("voucher_locked", Msg(
                f"キャンセルした受験チケットは{at}まで新規予約に使えません。",
                f"A cancelled voucher cannot be used for a new booking until {at}."), "voucher_code")


def change(db: Session, booking: Booking, new_session_id: int, user_id: int | None) -> PolicyDecision:
    """Move a booking to another session of the same provider and exam (date / venue only)."""
    old_session = db.get(ExamSession, booking.session_id)
    target = db.get(ExamSession, new_session_id)
    if target is None or target.organization_id != booking.organization_id:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    if target.provider != booking.provider or target.exam != booking.exam:
        raise RuleRefusal("exam_fixed", Msg("試験科目は変更できません(キャンセルして新規予約)。",
                                            "The exam subject cannot be changed (cancel and book again)."), "session_id")
    if target.id == booking.session_id:
        raise RuleRefusal("same_session", Msg("現在と同じ回です。", "That is the current session."), "session_id")
    if booking.status not in ACTIVE:
        raise RuleRefusal("not_active", Msg("この予約は有効ではありません。", "This booking is not active."), None)
    decision = policy_for(db, booking, old_session, target=target)
    if not decision.change.allowed:
        raise RuleRefusal("change_refused", decision.change.explanation, "session_id")
    before = audit.snapshot(booking)
    take_seat(db, target.id)
    release_seat(db, old_session.id)
    booking.session_id = target.id
    booking.booked_at = now_jst()
    booking.needs_reauthorization = "card_reauthorization" in decision.change.requires
    store_deadlines(db, org_context(db, booking.organization_id, booking.provider), booking, target)
    audit.record(db, booking.organization_id, user_id, "change", "booking", booking.id, before, audit.snapshot(booking))
    return decision


@dataclass
class RefundAccountInput:
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder: str


def cancel(db: Session, booking: Booking, user_id: int | None, account: RefundAccountInput | None) -> PolicyDecision:
    exam_session = db.get(ExamSession, booking.session_id)
    if booking.status not in ACTIVE:
        raise RuleRefusal("not_active", Msg("この予約は有効ではありません。", "This booking is not active."), None)
    now = now_jst()
    decision = policy_for(db, booking, exam_session, at=now)
    if not decision.cancel.allowed:
        raise RuleRefusal("cancel_refused", decision.cancel.explanation, None)
    refund = decision.cancel.refund
    if refund and account is None:
        raise RuleRefusal("refund_account_required", Msg("返金先口座を入力してください。", "Enter the refund account."), "bank_code")
    before = audit.snapshot(booking)
    release_seat(db, exam_session.id)
    booking.cancelled_at = now
    booking.refund_amount = refund
    booking.voucher_reusable_at = decision.cancel.voucher_reusable_at
    booking.status = "refund_pending" if refund else "cancelled"
    if refund and account is not None:
        db.add(RefundAccount(organization_id=booking.organization_id, booking_id=booking.id,
                             sealed=crypto.seal(dataclasses.asdict(account))))
    for old in db.exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking.id)).all():
        db.delete(old)
    booking.next_deadline_at = None
    db.add(booking)
    audit.record(db, booking.organization_id, user_id, "cancel", "booking", booking.id, before, audit.snapshot(booking))
    return decision


def refund_account(db: Session, booking: Booking) -> RefundAccountInput | None:
    """The booking's refund account, decrypted (None once the refund is done)."""
    row = db.exec(select(RefundAccount).where(RefundAccount.booking_id == booking.id)).first()
    return RefundAccountInput(**crypto.unseal(row.sealed)) if row is not None else None


def mark_paid(db: Session, booking: Booking, user_id: int | None) -> None:
    before = audit.snapshot(booking)
    booking.paid = True
    db.add(booking)
    audit.record(db, booking.organization_id, user_id, "paid", "booking", booking.id, before, audit.snapshot(booking))


def complete_refund(db: Session, booking: Booking, user_id: int | None) -> None:
    """The refund was transferred: the booking leaves the list and its account data is purged."""
    before = audit.snapshot(booking)
    booking.status = "cancelled"
    db.add(booking)
    account = db.exec(select(RefundAccount).where(RefundAccount.booking_id == booking.id)).first()
    if account is not None:
        db.delete(account)
    audit.record(db, booking.organization_id, user_id, "refund_done", "booking", booking.id, before, audit.snapshot(booking))


def expire_lapsed(db: Session, organization_id: int | None = None, at: datetime | None = None) -> int:
    """Expire active bookings whose provider says they lapsed (PRM-CA-3, IPA-PAY …)."""
    at = at or now_jst()
    query = select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.status.in_(ACTIVE), Booking.paid == False, Booking.payment_due_at != None,  # noqa: E711,E712
        Booking.payment_due_at < at)
    if organization_id is not None:
        query = query.where(Booking.organization_id == organization_id)
    contexts: dict[tuple[int, str], RuleContext] = {}
    count = 0
    for booking, exam_session in db.exec(query).all():
        key = (booking.organization_id, booking.provider)
        if key not in contexts:
            contexts[key] = org_context(db, *key)
        decision = providers().policy(contexts[key], facts_for(booking, exam_session, at))
        if decision.lapse is None or not decision.lapse.lapsed:
            continue
        before = audit.snapshot(booking)
        release_seat(db, exam_session.id)
        booking.status = "expired"
        booking.cancelled_at = at
        booking.next_deadline_at = None
        db.add(booking)
        audit.record(db, booking.organization_id, None, "expire", "booking", booking.id, before,
                     {**audit.snapshot(booking), "rule": decision.lapse.rule})
        count += 1
    return count


def active_bookings(rows: Iterable[Booking]) -> list[Booking]:
    return [b for b in rows if b.status in ACTIVE]
