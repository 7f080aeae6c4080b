"""The booking lifecycle: one small state machine, every transition asked of the provider
and guarded in the database.

States (``Booking.status``)::

    (new) --book--> booked --cancel--> refund_pending --refund_done--> cancelled
                    booked --cancel (no refund)-----------------------> cancelled
                    booked --lapse (unpaid past due)------------------> expired
                    booked --change / mark_paid--> booked
                    booked --exam_over (housekeeping, exam ended)-----> exam_over
          booked | exam_over | attended | absent --record_outcome--> attended | absent

How each transition happens:

1. the core's own checks (the session exists and has not started, the payment method is
   offered, the provider-declared facts are complete …);
2. for ``change`` / ``cancel`` / ``lapse``, the provider's policy (hook ``provider_policy``);
3. the provider's booking decision (hook ``provider_booking_decision``), which non-provider
   plugins may wrap: a refusal carries the rule IDs and the explanation;
4. ONE guarded ``UPDATE … WHERE id = :id AND status IN (:sources) AND <what the caller
   saw>`` (:func:`portal.guard.guarded`): zero rows means another request changed the
   booking first, and the user gets a :class:`~portal.guard.Conflict` naming its current
   state;
5. seats are taken / released only after the guarded statement matched, by conditional
   UPDATEs (the ``ck_exam_session_seats`` check is the last line);
6. one audit entry, in the same transaction.

The database forbids what must never happen (migration ``booking_lifecycle``): two active
bookings of a candidate in one session, a voucher held by two bookings, seats outside
``0..capacity``. :func:`portal.guard.register_constraint` turns each into a refusal.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from portal import audit, crypto, guard
from portal.models import (
    ACTIVE_STATUSES, VOUCHER_HOLDING_STATUSES, Attempt, Booking, BookingDeadline, Candidate, ExamSession,
    RefundAccount,
)
from portal.providers import RuleContext
from portal.providers import current as providers
from portal.rules import (
    BadInput, BookingDecision, BookingFactSpec, BookingFacts, Msg, Payment, PolicyDecision, PolicyFacts,
    ProviderInfo, RuleRefusal, SessionFacts, Sitting, jst,
)
from portal.rules.parse import date_value, now_jst

# --------------------------------------------------------------------------- the machine

STATES: dict[str, Msg] = {
    "booked": Msg("予約中", "booked"),
    "refund_pending": Msg("返金待ち", "refund pending"),
    "cancelled": Msg("キャンセル済み", "cancelled"),
    "expired": Msg("期限切れ(自動キャンセル)", "expired (cancelled automatically)"),
    "exam_over": Msg("試験終了(結果未記録)", "exam over (outcome not recorded)"),
    "attended": Msg("受験済み", "sat"),
    "absent": Msg("欠席", "absent"),
}
ACTIVE = ACTIVE_STATUSES
#: States holding a seat of their session (and the booking's voucher number).
SEATED = VOUCHER_HOLDING_STATUSES
OUTCOMES = ("passed", "failed", "absent")


@dataclass(frozen=True)
class Transition:
    """One arrow of the machine. ``rules`` are the rule IDs the providers' hooks consult
    for it (documentation and tests: every ID is in the rulebooks' index)."""

    action: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    seats: int  # +1 takes a seat, -1 releases one, 0 neither (change moves one)
    hooks: tuple[str, ...]
    rules: tuple[str, ...]


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("book", (), ("booked",), +1, ("provider_booking_decision", "provider_deadlines"),
               ("PRM-CA-1", "IPA-RT-1", "IPA-RT-2", "IPA-CH-1", "IPA-CH-2", "IPA-CH-3", "IPA-PAY")),
    Transition("change", ACTIVE, ("booked",), 0,
               ("provider_policy", "provider_booking_decision", "provider_deadlines"),
               ("PRM-DL-1", "PRM-CH-1", "PRM-CH-2", "PRM-CH-3", "PRM-CH-4",
                "IPA-CH-1", "IPA-CH-2", "IPA-CH-3", "IPA-CH-4", "IPA-RT-2", "IPA-PAY")),
    Transition("cancel", ACTIVE, ("refund_pending", "cancelled"), -1, ("provider_policy", "provider_booking_decision"),
               ("PRM-DL-1", "PRM-CA-1", "PRM-CA-2", "PRM-CH-1", "IPA-CA")),
    Transition("mark_paid", ACTIVE, ("booked",), 0, ("provider_booking_decision",), ("PRM-CH-1", "IPA-PAY")),
    Transition("refund_done", ("refund_pending",), ("cancelled",), 0, ("provider_booking_decision",), ("PRM-CA-2",)),
    Transition("lapse", ACTIVE, ("expired",), -1, ("provider_policy", "provider_booking_decision"),
               ("PRM-CA-3", "IPA-PAY")),
    Transition("exam_over", ACTIVE, ("exam_over",), 0, (), ("IPA-RT-2",)),
    Transition("record_outcome", ("booked", "exam_over", "attended", "absent"), ("attended", "absent"), 0,
               ("provider_booking_decision",), ("IPA-RT-2",)),
)}
ACTIONS = tuple(TRANSITIONS)

# --------------------------------------------------------------------------- refusals


class SeatTaken(RuleRefusal):
    def __init__(self):
        super().__init__("no_seat", Msg("この回は満席です。", "This session is full."), "session_id")


class Refused(RuleRefusal):
    """The provider (or a plugin wrapping its answer) refused the transition."""

    def __init__(self, decision: BookingDecision, field: str | None = "session_id"):
        super().__init__("refused", decision.explanation + Msg(f"({decision.rule})", f"({decision.rule})"),
                         decision.field or field)
        self.rule = decision.rule


def state_msg(status: str) -> Msg:
    return STATES.get(status, Msg(status, status))


def state_token(booking: Booking) -> str:
    """What a page showed of a booking's state; its forms post it back (``expected_state``)
    so that an action on a stale page is refused like a lost race."""
    return f"{booking.status}:{booking.session_id}:{int(bool(booking.paid))}"


def check_expected(db: Session, booking: Booking, expected: str | None) -> None:
    if expected and expected != state_token(booking):
        raise _changed_meanwhile(db, booking.id)


def _changed_meanwhile(db: Session, booking_id: int) -> guard.Conflict:
    """The conflict of a guarded statement that matched nothing, with the state now."""
    status = db.execute(select(Booking.status).where(Booking.id == booking_id)).scalar()
    current = state_msg(status) if status else Msg("削除済み", "deleted")
    return guard.Conflict("changed_meanwhile", Msg(
        "この予約は他の操作で変更されたため、処理しませんでした。", "This booking was changed meanwhile, so nothing was done."),
        None, Msg(f"現在の状態: {current.ja}", f"Current state: {current.en}."))


def _not_in(booking: Booking, transition: Transition) -> RuleRefusal:
    current = state_msg(booking.status)
    return RuleRefusal("not_allowed_in_state", Msg(
        f"この予約は「{current.ja}」のため、この操作はできません。",
        f"This booking is {current.en}: this action does not apply."), None)


guard.register_constraint(
    "uq_booking_active_candidate_session", "booking", ("candidate_id", "session_id"), "already_booked",
    Msg("この受験者はこの回にすでに予約があります。", "This candidate already has a booking in this session."), "candidate_id")
guard.register_constraint(
    "uq_booking_voucher_in_use", "booking", ("organization_id", "provider", "voucher_code"), "voucher_in_use",
    Msg("この受験チケットは別の予約で使用中(または使用済み)です。", "This voucher is held by another booking."), "voucher_code")
guard.register_constraint(
    "ck_exam_session_seats", "exam_session", ("seats_taken",), "no_seat",
    Msg("この回は満席です。", "This session is full."), "session_id")

# --------------------------------------------------------------------------- seats


def take_seat(db: Session, session_id: int) -> None:
    """One conditional UPDATE: of two operators racing for the last seat exactly one
    matches ``seats_taken < capacity``; the other gets SeatTaken."""
    result = db.execute(update(ExamSession).where(ExamSession.id == session_id,
                                                  ExamSession.seats_taken < ExamSession.capacity)
                        .values(seats_taken=ExamSession.seats_taken + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise SeatTaken()


def release_seat(db: Session, session_id: int) -> None:
    guard.guarded(db, update(ExamSession).where(ExamSession.id == session_id, ExamSession.seats_taken > 0)
                  .values(seats_taken=ExamSession.seats_taken - 1).execution_options(synchronize_session=False),
                  guard.Conflict("conflict", guard.CHANGED_MEANWHILE))


def _guarded_update(db: Session, booking: Booking, transition: Transition, values: Mapping[str, Any],
                    *expected) -> None:
    """THE transition: one UPDATE on the expected current state, then the object reloaded."""
    statement = (update(Booking).where(Booking.id == booking.id, Booking.status.in_(transition.sources), *expected)
                 .values(**values).execution_options(synchronize_session=False))
    guard.guarded(db, statement, lambda: _changed_meanwhile(db, booking.id))
    db.refresh(booking)

# --------------------------------------------------------------------------- facts


def _parse_fact(spec: BookingFactSpec | None, key: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    if spec is not None and spec.kind == "date" and isinstance(value, str):
        return date_value(value, key, required=False)
    return value


def typed_provider_facts(info: ProviderInfo, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    specs = {s.key: s for s in info.booking_facts}
    return {k: _parse_fact(specs.get(k), k, v) for k, v in (stored or {}).items() if v not in (None, "")}


def read_provider_facts(info: ProviderInfo, form: Mapping[str, str], exam: str | None,
                        payment_method: str | None, strict: bool = True) -> dict[str, Any]:
    """The provider-declared facts from a form, validated; stored as strings (ISO dates).
    Not ``strict`` (the form's picker, before an exam is chosen): nothing is required yet."""
    result: dict[str, Any] = {}
    for spec in info.booking_facts:
        if not spec.applies(exam if strict or exam else (spec.exams[0] if spec.exams else None), payment_method):
            continue
        raw = (form.get(spec.key) or "").strip()
        if not raw:
            if spec.required and strict:
                raise BadInput("missing_field", Msg(f"{spec.label.ja}を入力してください。",
                                                    f"Enter the {spec.label.en}."), spec.key)
            continue
        value = _parse_fact(spec, spec.key, raw[:200])
        result[spec.key] = value.isoformat() if isinstance(value, date) else value
    return result


def facts_for(booking: Booking, exam_session: ExamSession, at: datetime | None = None,
              target: ExamSession | None = None, info: ProviderInfo | None = None) -> PolicyFacts:
    """The policy hook's facts of a stored booking, with its provider-declared facts
    (a fact named like a :class:`PolicyFacts` field fills it, the others go to ``raw``)."""
    extra = typed_provider_facts(info, booking.provider_facts) if info is not None else dict(booking.provider_facts or {})
    known = {f.name for f in dataclasses.fields(PolicyFacts)}
    return PolicyFacts(
        at=at or now_jst(), exam=booking.exam, exam_start=exam_session.start, booked_at=booking.booked_at,
        first_booked_at=booking.first_booked_at,
        payment=Payment(booking.payment_method, booking.paid, booking.amount, booking.payment_due_at),
        target_exam_start=target.start if target else None,
        raw={k: v for k, v in extra.items() if k not in known},
        **{k: v for k, v in extra.items() if k in known and k not in ("at", "raw", "payment", "exam")},
    )


def policy_for(db: Session, booking: Booking, exam_session: ExamSession, at: datetime | None = None,
               target: ExamSession | None = None, ctx: RuleContext | None = None) -> PolicyDecision:
    from portal.bookings import org_context
    ctx = ctx or org_context(db, booking.organization_id, booking.provider)
    return providers().policy(ctx, facts_for(booking, exam_session, at, target, ctx.provider))


def session_facts(s: ExamSession) -> SessionFacts:
    return SessionFacts(s.id, s.exam, s.start, s.end, s.venue, s.seats_left)


def history(db: Session, organization_id: int, candidate_id: int | None, provider_id: str, exam: str,
            exclude_booking_id: int | None = None) -> tuple[Sitting, ...]:
    """The candidate's recorded attempts of ``exam`` and their other bookings holding a
    seat (outcome ``None`` until recorded). Two queries, whatever the history's size."""
    if candidate_id is None:
        return ()
    attempts = db.exec(select(Attempt).where(
        Attempt.organization_id == organization_id, Attempt.candidate_id == candidate_id,
        Attempt.provider == provider_id, Attempt.exam == exam)).all()
    sittings = [Sitting(jst(a.start), jst(a.end), a.outcome, a.booking_id) for a in attempts]
    recorded_bookings = {a.booking_id for a in attempts if a.booking_id}
    recorded_starts = {jst(a.start) for a in attempts}
    rows = db.exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.organization_id == organization_id, Booking.candidate_id == candidate_id,
        Booking.provider == provider_id, Booking.exam == exam, Booking.status.in_(SEATED))).all()
    for booking, s in rows:
        if booking.id == exclude_booking_id or booking.id in recorded_bookings or jst(s.start) in recorded_starts:
            continue
        sittings.append(Sitting(jst(s.start), jst(s.end), None, booking.id))
    return tuple(sorted(sittings, key=lambda x: x.start))


def voucher_locked_until(db: Session, organization_id: int, provider_id: str, code: str | None) -> datetime | None:
    if not code:
        return None
    return db.execute(select(func.max(Booking.voucher_reusable_at)).where(
        Booking.organization_id == organization_id, Booking.provider == provider_id,
        Booking.voucher_code == code)).scalar()


def booking_facts(db: Session, ctx: RuleContext, booking: Booking, exam_session: ExamSession, at: datetime,
                  target: ExamSession | None = None, policy: PolicyDecision | None = None,
                  outcome: str | None = None, with_history: bool = True) -> BookingFacts:
    """The decision hook's facts of a stored booking (``with_history=False``: housekeeping
    over many bookings, where the candidate's other sittings do not matter)."""
    return BookingFacts(
        at=at, candidate_id=booking.candidate_id, exam=booking.exam, session=session_facts(exam_session),
        payment=Payment(booking.payment_method, booking.paid, booking.amount, booking.payment_due_at),
        status=booking.status, booking_id=booking.id, target=session_facts(target) if target else None,
        booked_at=booking.booked_at, first_booked_at=booking.first_booked_at, voucher_code=booking.voucher_code,
        provider_facts=typed_provider_facts(ctx.provider, booking.provider_facts),
        history=history(db, booking.organization_id, booking.candidate_id, booking.provider, booking.exam, booking.id)
        if with_history else (),
        policy=policy, outcome=outcome)


def ask(ctx: RuleContext, action: str, facts: BookingFacts, field: str | None = "session_id") -> BookingDecision | None:
    """Ask the provider; a refusal is raised as :class:`Refused`."""
    decision = providers().booking_decision(ctx, action, facts)
    if decision is not None and not decision.allowed:
        raise Refused(decision, field)
    return decision


def verdicts(ctx: RuleContext, action: str, facts: BookingFacts, sessions: Iterable[ExamSession]
             ) -> list[tuple[ExamSession, BookingDecision | None]]:
    """The provider's answer for each session a form offers (``facts.session`` or
    ``facts.target`` replaced in turn): no query per session. A session with no seat
    left is refused by the core."""
    result = []
    for s in sessions:
        one = (dataclasses.replace(facts, target=session_facts(s)) if action == "change"
               else dataclasses.replace(facts, session=session_facts(s), exam=s.exam))
        decision = providers().booking_decision(ctx, action, one)
        if s.seats_left <= 0 and (decision is None or decision.allowed):
            decision = BookingDecision(False, "", Msg("空席がありません。", "No free seat."))
        result.append((s, decision))
    return result

# --------------------------------------------------------------------------- transitions


@dataclass
class NewBooking:
    candidate_id: int
    session_id: int
    payment_method: str
    paid: bool
    amount: int | None
    payment_due_at: datetime | None
    voucher_code: str | None
    provider_facts: dict[str, Any] = field(default_factory=dict)


def new_booking_facts(db: Session, ctx: RuleContext, organization_id: int, data: NewBooking,
                      exam_session: ExamSession, at: datetime) -> BookingFacts:
    """The decision hook's facts of a booking asked for (also the form's date picker)."""
    return BookingFacts(
        at=at, candidate_id=data.candidate_id, exam=exam_session.exam, session=session_facts(exam_session),
        payment=Payment(data.payment_method, data.paid, data.amount, data.payment_due_at),
        voucher_code=data.voucher_code,
        voucher_locked_until=voucher_locked_until(db, organization_id, ctx.provider.id, data.voucher_code),
        provider_facts=typed_provider_facts(ctx.provider, data.provider_facts),
        history=history(db, organization_id, data.candidate_id, ctx.provider.id, exam_session.exam))


def book(db: Session, organization_id: int, user_id: int | None, data: NewBooking, at: datetime | None = None) -> Booking:
    from portal.bookings import org_context, store_deadlines
    at = at or now_jst()
    exam_session = db.get(ExamSession, data.session_id)
    if exam_session is None or exam_session.organization_id != organization_id:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    candidate = db.get(Candidate, data.candidate_id)
    if candidate is None or candidate.organization_id != organization_id:
        raise RuleRefusal("unknown_candidate", Msg("受験者が見つかりません。", "Unknown candidate."), "candidate_id")
    if exam_session.start <= at:
        raise RuleRefusal("session_started", Msg("開始済みの回には予約できません。", "This session has already started."), "session_id")
    ctx = org_context(db, organization_id, exam_session.provider)
    if data.payment_method not in ctx.provider.payment_methods:
        raise RuleRefusal("payment_method", Msg("この支払方法は使えません。", "This payment method is not offered."), "payment_method")
    if data.payment_method == "voucher":
        _check_voucher_free(db, organization_id, exam_session.provider, data.voucher_code)
    else:
        data = dataclasses.replace(data, voucher_code=None)
    ask(ctx, "book", new_booking_facts(db, ctx, organization_id, data, exam_session, at))
    take_seat(db, exam_session.id)
    booking = Booking(organization_id=organization_id, candidate_id=data.candidate_id, session_id=exam_session.id,
                      provider=exam_session.provider, exam=exam_session.exam, payment_method=data.payment_method,
                      paid=data.paid, amount=data.amount, payment_due_at=data.payment_due_at,
                      booked_at=at, first_booked_at=at, voucher_code=data.voucher_code,
                      provider_facts=dict(data.provider_facts))
    db.add(booking)
    db.flush()  # the unique indexes answer here: one active booking per candidate and session, one voucher holder
    store_deadlines(db, ctx, booking, exam_session)
    audit.record(db, organization_id, user_id, "book", "booking", booking.id, None, audit.snapshot(booking))
    return booking


def _check_voucher_free(db: Session, organization_id: int, provider_id: str, code: str | None) -> None:
    """A friendly early answer; the unique index ``uq_booking_voucher_in_use`` decides races."""
    if not code:
        raise RuleRefusal("voucher_required", Msg("受験チケット番号を入力してください。", "Enter the voucher number."), "voucher_code")
    held = db.execute(select(Booking.id).where(
        Booking.organization_id == organization_id, Booking.provider == provider_id, Booking.voucher_code == code,
        Booking.status.in_(SEATED)).limit(1)).first()
    if held is not None:
        raise RuleRefusal("voucher_in_use", Msg("この受験チケットは別の予約で使用中(または使用済み)です。",
                                                "This voucher is held by another booking."), "voucher_code")


def change(db: Session, booking: Booking, new_session_id: int, user_id: int | None,
           at: datetime | None = None) -> PolicyDecision:
    """Move a booking to another session of the same provider and exam (date / venue only)."""
    from portal.bookings import org_context, store_deadlines
    at = at or now_jst()
    transition = TRANSITIONS["change"]
    old_session = db.get(ExamSession, booking.session_id)
    target = db.get(ExamSession, new_session_id)
    if target is None or target.organization_id != booking.organization_id:
        raise RuleRefusal("unknown_session", Msg("試験回が見つかりません。", "Unknown session."), "session_id")
    if target.provider != booking.provider or target.exam != booking.exam:
        raise RuleRefusal("exam_fixed", Msg("試験科目は変更できません(キャンセルして新規予約)。",
                                            "The exam subject cannot be changed (cancel and book again)."), "session_id")
    if target.id == booking.session_id:
        raise RuleRefusal("same_session", Msg("現在と同じ回です。", "That is the current session."), "session_id")
    if booking.status not in transition.sources:
        raise _not_in(booking, transition)
    if target.start <= at:
        raise RuleRefusal("session_started", Msg("開始済みの回には変更できません。", "That session has already started."), "session_id")
    ctx = org_context(db, booking.organization_id, booking.provider)
    decision = policy_for(db, booking, old_session, at, target, ctx)
    if not decision.change.allowed:
        raise RuleRefusal("change_refused", decision.change.explanation + Msg(
            f"({decision.change.rule})", f"({decision.change.rule})"), "session_id")
    ask(ctx, "change", booking_facts(db, ctx, booking, old_session, at, target, decision))
    before = audit.snapshot(booking)
    _guarded_update(db, booking, transition, {
        "session_id": target.id, "booked_at": at,
        "needs_reauthorization": "card_reauthorization" in decision.change.requires,
    }, Booking.session_id == old_session.id)
    take_seat(db, target.id)
    release_seat(db, old_session.id)
    store_deadlines(db, ctx, booking, target)
    audit.record(db, booking.organization_id, user_id, "change", "booking", booking.id, before, audit.snapshot(booking))
    return decision


@dataclass
class RefundAccountInput:
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder: str


def store_refund_account(db: Session, booking: Booking, account: RefundAccountInput) -> RefundAccount:
    """The one place a refund account is written (Zengin fields, personal data): encrypted
    at rest (portal.crypto), read back only through :func:`refund_account`."""
    row = RefundAccount(organization_id=booking.organization_id, booking_id=booking.id,
                        sealed=crypto.seal(dataclasses.asdict(account)))
    db.add(row)
    return row


def refund_account(db: Session, booking: Booking) -> RefundAccountInput | None:
    """The booking's refund account, decrypted (None once the refund is done)."""
    row = db.exec(select(RefundAccount).where(RefundAccount.booking_id == booking.id)).first()
    return RefundAccountInput(**crypto.unseal(row.sealed)) if row is not None else None


def cancel(db: Session, booking: Booking, user_id: int | None, account: RefundAccountInput | None,
           at: datetime | None = None) -> PolicyDecision:
    from portal.bookings import org_context
    at = at or now_jst()
    transition = TRANSITIONS["cancel"]
    if booking.status not in transition.sources:
        raise _not_in(booking, transition)
    exam_session = db.get(ExamSession, booking.session_id)
    ctx = org_context(db, booking.organization_id, booking.provider)
    decision = policy_for(db, booking, exam_session, at, None, ctx)
    if not decision.cancel.allowed:
        raise RuleRefusal("cancel_refused", decision.cancel.explanation + Msg(
            f"({decision.cancel.rule})", f"({decision.cancel.rule})"), None)
    refund = decision.cancel.refund
    if refund and account is None:
        raise RuleRefusal("refund_account_required", Msg("返金先口座を入力してください。", "Enter the refund account."), "bank_code")
    ask(ctx, "cancel", booking_facts(db, ctx, booking, exam_session, at, None, decision), None)
    before = audit.snapshot(booking)
    _guarded_update(db, booking, transition, {
        "status": "refund_pending" if refund else "cancelled", "cancelled_at": at, "refund_amount": refund,
        "voucher_reusable_at": decision.cancel.voucher_reusable_at, "next_deadline_at": None,
    }, Booking.session_id == exam_session.id)
    release_seat(db, exam_session.id)
    after = audit.snapshot(booking)
    if refund and account is not None:  # the audit keeps where the refund goes, masked like the screens
        from portal.zengin import masked
        store_refund_account(db, booking, account)
        after["refund_account"] = masked(account)
    db.execute(delete(BookingDeadline).where(BookingDeadline.booking_id == booking.id))
    audit.record(db, booking.organization_id, user_id, "cancel", "booking", booking.id, before, after)
    return decision


def mark_paid(db: Session, booking: Booking, user_id: int | None, at: datetime | None = None) -> None:
    from portal.bookings import org_context
    at = at or now_jst()
    transition = TRANSITIONS["mark_paid"]
    if booking.status not in transition.sources:
        raise _not_in(booking, transition)
    if booking.paid:
        raise RuleRefusal("already_paid", Msg("この予約は支払済みです。", "This booking is already paid."), None)
    ctx = org_context(db, booking.organization_id, booking.provider)
    ask(ctx, "mark_paid", booking_facts(db, ctx, booking, db.get(ExamSession, booking.session_id), at), None)
    before = audit.snapshot(booking)
    _guarded_update(db, booking, transition, {"paid": True}, Booking.paid == False)  # noqa: E712
    audit.record(db, booking.organization_id, user_id, "paid", "booking", booking.id, before, audit.snapshot(booking))


def complete_refund(db: Session, booking: Booking, user_id: int | None, at: datetime | None = None) -> None:
    """The refund was transferred: the booking leaves the list and its account data is purged."""
    from portal.bookings import org_context
    at = at or now_jst()
    transition = TRANSITIONS["refund_done"]
    if booking.status not in transition.sources:
        raise _not_in(booking, transition)
    ctx = org_context(db, booking.organization_id, booking.provider)
    ask(ctx, "refund_done", booking_facts(db, ctx, booking, db.get(ExamSession, booking.session_id), at), None)
    before = audit.snapshot(booking)
    _guarded_update(db, booking, transition, {"status": "cancelled"})
    db.execute(delete(RefundAccount).where(RefundAccount.booking_id == booking.id))
    audit.record(db, booking.organization_id, user_id, "refund_done", "booking", booking.id, before, audit.snapshot(booking))


def record_outcome(db: Session, booking: Booking, outcome: str, user_id: int | None,
                   at: datetime | None = None) -> Attempt:
    """How the booked exam went (passed / failed / absent): the booking becomes
    ``attended`` or ``absent`` and the attempt is stored for the retake rules."""
    from portal.bookings import org_context
    at = at or now_jst()
    if outcome not in OUTCOMES:
        raise BadInput("invalid_field", Msg("結果を選んでください。", "Choose the outcome."), "outcome")
    transition = TRANSITIONS["record_outcome"]
    if booking.status not in transition.sources:
        raise _not_in(booking, transition)
    exam_session = db.get(ExamSession, booking.session_id)
    if jst(exam_session.start) > jst(at):
        raise RuleRefusal("not_sat_yet", Msg("試験の開始後に結果を記録できます。",
                                             "The outcome can be recorded once the exam has started."), "outcome")
    ctx = org_context(db, booking.organization_id, booking.provider)
    ask(ctx, "record_outcome", booking_facts(db, ctx, booking, exam_session, at, outcome=outcome), "outcome")
    before = audit.snapshot(booking)
    _guarded_update(db, booking, transition, {"status": "absent" if outcome == "absent" else "attended",
                                              "next_deadline_at": None}, Booking.status == booking.status)
    row = db.exec(select(Attempt).where(Attempt.booking_id == booking.id)).first()
    if row is None:
        row = Attempt(organization_id=booking.organization_id, candidate_id=booking.candidate_id,
                      provider=booking.provider, exam=booking.exam, start=exam_session.start, end=exam_session.end,
                      outcome=outcome, booking_id=booking.id)
    row.outcome = outcome
    db.add(row)
    db.flush()
    audit.record(db, booking.organization_id, user_id, "record_outcome", "booking", booking.id, before,
                 {**audit.snapshot(booking), "outcome": outcome})
    return row


def _housekeeping_rows(db: Session, query, organization_id: int | None):
    if organization_id is not None:
        query = query.where(Booking.organization_id == organization_id)
    return db.exec(query).all()


def expire_lapsed(db: Session, organization_id: int | None = None, at: datetime | None = None) -> int:
    """Expire active bookings whose provider says they lapsed (PRM-CA-3, IPA-PAY …).
    A booking another request changed meanwhile is left alone (its guard matches nothing)."""
    from portal.bookings import org_context
    at = at or now_jst()
    transition = TRANSITIONS["lapse"]
    rows = _housekeeping_rows(db, select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id).where(
        Booking.status.in_(ACTIVE), Booking.paid == False, Booking.payment_due_at != None,  # noqa: E711,E712
        Booking.payment_due_at < at), organization_id)
    contexts: dict[tuple[int, str], RuleContext] = {}
    count = 0
    for booking, exam_session in rows:
        key = (booking.organization_id, booking.provider)
        if key not in contexts:
            if booking.provider not in providers():
                continue  # provider not installed: its bookings stay as they are
            contexts[key] = org_context(db, *key)
        ctx = contexts[key]
        decision = providers().policy(ctx, facts_for(booking, exam_session, at, None, ctx.provider))
        if decision.lapse is None or not decision.lapse.lapsed:
            continue
        answer = providers().booking_decision(ctx, "lapse", booking_facts(db, ctx, booking, exam_session, at, None, decision,
                                                                          with_history=False))
        if answer is not None and not answer.allowed:
            continue
        before = audit.snapshot(booking)
        result = db.execute(update(Booking).where(Booking.id == booking.id, Booking.status.in_(transition.sources),
                                                  Booking.paid == False)  # noqa: E712
                            .values(status="expired", cancelled_at=at, next_deadline_at=None)
                            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue  # paid, cancelled or expired meanwhile: that transition happened instead
        db.refresh(booking)
        release_seat(db, exam_session.id)
        audit.record(db, booking.organization_id, None, "expire", "booking", booking.id, before,
                     {**audit.snapshot(booking), "rule": decision.lapse.rule})
        count += 1
    return count


def close_ended_exams(db: Session, organization_id: int | None = None, at: datetime | None = None) -> int:
    """Housekeeping: every ``booked`` booking whose exam has ended becomes ``exam_over``
    (outcome not recorded; the retake rules count it as sat, e.g. IPA-RT-2). One read,
    one guarded set-based UPDATE … RETURNING, one audit entry per booking it moved."""
    at = at or now_jst()
    transition = TRANSITIONS["exam_over"]
    rows = {b.id: b for b in _housekeeping_rows(db, select(Booking).join(ExamSession, ExamSession.id == Booking.session_id)
                                                .where(Booking.status.in_(transition.sources), ExamSession.end <= at),
                                                organization_id)}
    if not rows:
        return 0
    moved = db.execute(update(Booking).where(Booking.id.in_(list(rows)), Booking.status.in_(transition.sources))
                       .values(status="exam_over", next_deadline_at=None).returning(Booking.id)
                       .execution_options(synchronize_session=False)).scalars().all()
    for booking_id in moved:
        booking = rows[booking_id]
        before = audit.snapshot(booking)
        audit.record(db, booking.organization_id, None, "exam_over", "booking", booking_id, before,
                     {**before, "status": "exam_over", "next_deadline_at": None})
    db.expire_all()
    return len(moved)
