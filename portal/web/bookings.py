"""Sessions and bookings for providers whose ``ProviderInfo.bookings`` is set."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_
from sqlmodel import select

from portal import bookings as service
from portal import audit, crypto, db, htmx, lifecycle, notify, submissions
from portal.inputs import MAX_PAGE, MAX_WITHIN_DAYS, int_arg
from portal.models import Attempt, Booking, BookingDeadline, Candidate, ExamSession, RefundAccount
from portal.rules import STORE_METHODS, BadInput, Msg, RuleError
from portal.rules.parse import now_jst
from portal.scoping import get_or_404, org_id, scoped
from portal.web import pager
from portal.web.forms import datetime_local, int_field
from portal.rules import parse
from portal.zengin import ACCOUNT_TYPES, masked, validate_refund_account

bp = Blueprint("bookings", __name__)

STATUSES = tuple(lifecycle.STATES)
SORTS = {
    "deadline": (Booking.next_deadline_at.asc(), Booking.id.asc()),
    "exam": (ExamSession.start.asc(), Booking.id.asc()),
    "-exam": (ExamSession.start.desc(), Booking.id.desc()),
    "booked": (Booking.booked_at.desc(), Booking.id.desc()),
}


def _booking_provider(provider_id: str):
    info = service.providers().info(provider_id) if provider_id in service.providers() else None
    if info is None or not info.bookings:
        abort(404)
    return info


# --------------------------------------------------------------------------- sessions


@bp.route("/providers/<provider_id>/sessions", methods=["GET", "POST"])
def sessions(provider_id: str):
    info = _booking_provider(provider_id)
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    exams = service.catalog(db.session(), org_id(), provider_id)
    if request.method == "POST":
        try:
            with db.transaction() as s:
                _create_session(s, info, exams)
            if not htmx.is_htmx():
                return redirect(url_for("bookings.sessions", provider_id=provider_id))
            values = {}
        except RuleError as exc:
            errors[exc.field or "_"] = exc.message
    rows = db.session().exec(scoped(ExamSession).where(ExamSession.provider == provider_id)
                             .order_by(ExamSession.start)).all()
    status = 422 if errors else 200
    return htmx.render("bookings/sessions.html", "bookings/partials/sessions.html", status=status,
                       info=info, rows=rows, errors=errors, values=values, exams=exams)


def _find_exam(exams, code):
    return next((e for e in exams if e.code == code), None)


def _create_session(s, info, exams) -> ExamSession:
    form = request.form
    exam = form.get("exam")
    if _find_exam(exams, exam) is None:
        raise BadInput("unknown_exam", Msg("試験を選んでください。", "Choose an exam."), "exam")
    start = parse.datetime_value(datetime_local(form.get("start", "")) if form.get("start") else None, "start")
    venue = (form.get("venue") or "").strip()
    if not venue:
        raise BadInput("missing_field", Msg("会場を入力してください。", "Enter the venue."), "venue")
    capacity = int_field(form, "capacity")
    if capacity is None or capacity < 1 or capacity > 1000:
        raise BadInput("invalid_field", Msg("座席数は1〜1000です。", "Seats must be 1 to 1000."), "capacity")
    duration = _find_exam(exams, exam).duration_minutes or 60
    row = ExamSession(organization_id=org_id(), provider=info.id, exam=exam, venue=venue[:200], start=start,
                      end=start + timedelta(minutes=duration), capacity=capacity)
    s.add(row)
    s.flush()
    audit.record(s, org_id(), current_user.id, "create", "exam_session", row.id, None, audit.snapshot(row))
    return row


# --------------------------------------------------------------------------- list


def booking_query(provider_id: str, args) -> tuple[Any, dict[str, str]]:
    """The bookings list's query with the filters of ``args`` applied (no pager), and the
    filters as read: the screen, its export and its bulk actions share it."""
    status = args.get("status", "booked")
    sort = args.get("sort", "deadline")
    q = (args.get("q") or "").strip()
    within = args.get("within", "")
    query = (select(Booking, ExamSession, Candidate)
             .join(ExamSession, ExamSession.id == Booking.session_id)
             .join(Candidate, Candidate.id == Booking.candidate_id)
             .where(Booking.organization_id == org_id(), Booking.provider == provider_id))
    if status in STATUSES:
        query = query.where(Booking.status == status)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Candidate.family_name.like(like), Candidate.given_name.like(like),
                                Candidate.family_kana.like(like), Candidate.given_kana.like(like)))
    within_days = int_arg(args, "within", None, minimum=0, maximum=MAX_WITHIN_DAYS)
    if within_days is not None:
        query = query.where(Booking.next_deadline_at != None,  # noqa: E711
                            Booking.next_deadline_at <= now_jst() + timedelta(days=within_days))
    query = query.order_by(*SORTS.get(sort, SORTS["deadline"]))
    return query, {"status": status, "sort": sort, "q": q, "within": within}


@bp.get("/providers/<provider_id>/bookings")
def booking_list(provider_id: str):
    info = _booking_provider(provider_id)
    if _may_have_lapsed(provider_id):  # lapsed bookings (unpaid past due) expire before listing
        with db.transaction() as s:
            service.expire_lapsed(s, org_id())
    return list_response(info, request.args)


def list_response(info, args, status: int = 200, **extra: Any):
    """One page of the list under the filters of ``args`` (``extra``: e.g. a bulk summary)."""
    query, filters = booking_query(info.id, args)
    page = int_arg(args, "page", 1, minimum=1, maximum=MAX_PAGE)
    size = 25
    # The count needs neither the order nor the columns: counting the ordered, full-width
    # rows sorted every booking first (200 ms at 100k bookings on PostgreSQL, 80 without).
    counted = query.order_by(None).with_only_columns(Booking.id).subquery()
    total = db.session().exec(select(func.count()).select_from(counted)).one()
    rows = db.session().exec(query.offset((page - 1) * size).limit(size)).all()
    deadlines = deadlines_for([b.id for b, _, _ in rows])
    pending = [b.id for b, _, _ in rows if b.status == "refund_pending"]
    accounts = {a.booking_id: masked(lifecycle.RefundAccountInput(**crypto.unseal(a.sealed))) for a in db.session().exec(
        select(RefundAccount).where(RefundAccount.booking_id.in_(pending))).all()} if pending else {}
    pages = max(1, -(-total // size))
    return htmx.render("bookings/list.html", "bookings/partials/table.html", status=status, info=info, rows=rows,
                       deadlines=deadlines, accounts=accounts, filters=filters, page=page, pages=pages, total=total,
                       pager=pager.window(page, pages), **extra)


def _may_have_lapsed(provider_id: str) -> bool:
    """Whether an active unpaid booking is past its due date: a read (index on
    payment_due_at), so that listing takes the write lock only when there is work."""
    return db.session().exec(select(Booking.id).where(
        Booking.organization_id == org_id(), Booking.provider == provider_id, Booking.status.in_(service.ACTIVE),
        Booking.paid == False, Booking.payment_due_at < now_jst()).limit(1)).first() is not None  # noqa: E712


def deadlines_for(booking_ids: list[int]) -> dict[int, list[BookingDeadline]]:
    """The stored deadlines of these bookings, in one query."""
    result: dict[int, list[BookingDeadline]] = {i: [] for i in booking_ids}
    if booking_ids:
        for d in db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id.in_(booking_ids))
                                   .order_by(BookingDeadline.at)).all():
            result[d.booking_id].append(d)
    return result


# --------------------------------------------------------------------------- book


def _session_query(provider_id: str, exam: str = "", venue: str = ""):
    query = scoped(ExamSession).where(ExamSession.provider == provider_id, ExamSession.start > now_jst())
    if exam:
        query = query.where(ExamSession.exam == exam)
    if venue:
        query = query.where(ExamSession.venue == venue)
    return query.order_by(ExamSession.start, ExamSession.venue, ExamSession.id)


def _venues(provider_id: str, exam: str = "") -> list[str]:
    query = select(ExamSession.venue).where(ExamSession.organization_id == org_id(), ExamSession.provider == provider_id,
                                            ExamSession.start > now_jst()).distinct()
    if exam:
        query = query.where(ExamSession.exam == exam)
    return sorted(db.session().exec(query).all())


def _picker(info, values) -> dict[str, Any]:
    """The session picker of a new booking: every upcoming session with the provider's
    verdict for the facts entered so far (hook ``provider_booking_decision``)."""
    s = db.session()
    exam, venue = values.get("exam") or "", values.get("venue") or ""
    rows = s.exec(_session_query(info.id, exam, venue)).all()
    picker_error, choices = None, [(row, None) for row in rows]
    try:
        data = _new_booking_data(values, info, for_picker=True)
        if data.candidate_id is not None:
            get_or_404(Candidate, data.candidate_id)
        ctx = service.org_context(s, org_id(), info.id)
        if rows:
            facts = lifecycle.new_booking_facts(s, ctx, org_id(), data, rows[0], now_jst())
            choices = lifecycle.verdicts(ctx, "book", facts, rows)
    except RuleError as exc:
        picker_error = exc.message
    selected = values.get("session_id") or values.get("session") or ""
    return {"choices": choices, "picker_error": picker_error, "selected": str(selected)}


def _book_context(info, values, errors) -> dict[str, Any]:
    exams = service.catalog(db.session(), org_id(), info.id)
    candidates = db.session().exec(scoped(Candidate).order_by(Candidate.family_kana, Candidate.id)).all()
    return {"info": info, "values": values, "errors": errors, "exams": exams, "candidates": candidates,
            "venues": _venues(info.id, values.get("exam") or ""), **_picker(info, values)}


@bp.get("/providers/<provider_id>/book/sessions")
def book_sessions(provider_id: str):
    """The picker alone, refreshed as the form's facts change (htmx)."""
    info = _booking_provider(provider_id)
    return htmx.render("bookings/book.html", "bookings/partials/picker.html", **_book_context(info, request.args, {}))


@bp.route("/providers/<provider_id>/book", methods=["GET", "POST"])
def book(provider_id: str):
    info = _booking_provider(provider_id)
    errors: dict[str, Msg] = {}
    status = 200
    values: Any = request.form if request.method == "POST" else {
        "session_id": request.args.get("session", ""), "exam": request.args.get("exam", "")}
    if request.method == "POST":
        key = submissions.key_from(request.form)
        earlier = submissions.previous(db.session(), key, org_id())
        if earlier is not None:  # the same form posted again: the first post's answer
            return _go(earlier.result_url)
        try:
            with db.transaction() as s:
                claimed = submissions.claim(s, key, org_id(), current_user.id, "book")
                booking = service.book(s, org_id(), current_user.id, _new_booking(s, info))
                target = url_for("bookings.detail", booking_id=booking.id)
                submissions.finish(s, claimed, target)
            notify.success(Msg("予約しました。", "Booked."))
            return _go(target)
        except RuleError as exc:
            if submissions.is_duplicate(exc):
                return _go(submissions.previous(db.session(), key, org_id()).result_url)
            errors[exc.field or "_"] = exc.message
            status = 409 if exc.status == 409 else 422
    return htmx.render("bookings/book.html", "bookings/partials/book_form.html", status=status,
                       **_book_context(info, values, errors))


def _go(target: str):
    return htmx.redirect(target) if htmx.is_htmx() else redirect(target)


def _new_booking_data(form, info, for_picker: bool = False) -> service.NewBooking:
    """The booking asked for by the form (the candidate may still be new: ``None``)."""
    method = form.get("payment_method") or ("" if not for_picker else info.payment_methods[0])
    if method not in info.payment_methods:
        raise BadInput("invalid_field", Msg("支払方法を選んでください。", "Choose a payment method."), "payment_method")
    paid_box = form.get("paid") in ("on", "true")
    due = None
    if method in STORE_METHODS and not paid_box and not for_picker:
        due = parse.datetime_value(datetime_local(form["payment_due"]) if form.get("payment_due") else None, "payment_due")
    session_id = int_field(form, "session_id") if not for_picker else None
    exam = form.get("exam") or None
    if session_id is not None:
        exam = get_or_404(ExamSession, session_id).exam
    facts = lifecycle.read_provider_facts(info, form, exam, method, strict=not for_picker)
    return service.NewBooking(
        candidate_id=int_field(form, "candidate_id"), session_id=session_id or 0, payment_method=method,
        paid=method in ("credit_card", "voucher") or paid_box, amount=int_field(form, "amount"), payment_due_at=due,
        voucher_code=(form.get("voucher_code") or "").strip()[:50] or None if method == "voucher" else None,
        provider_facts=facts)


def _new_booking(s, info) -> service.NewBooking:
    form = request.form
    session_id = int_field(form, "session_id")
    if session_id is None:
        raise BadInput("missing_field", Msg("試験回を選んでください。", "Choose a session."), "session_id")
    exam_session = get_or_404(ExamSession, session_id)
    if exam_session.provider != info.id:
        abort(404)
    data = _new_booking_data(form, info)
    if data.candidate_id is None:
        family, given = (form.get("family_name") or "").strip(), (form.get("given_name") or "").strip()
        if not family or not given:
            raise BadInput("missing_field", Msg("受験者を選ぶか、姓と名を入力してください。",
                                                "Choose a candidate or enter family and given name."), "candidate_id")
        candidate = Candidate(organization_id=org_id(), family_name=family[:100], given_name=given[:100],
                              family_kana=(form.get("family_kana") or "").strip()[:100],
                              given_kana=(form.get("given_kana") or "").strip()[:100])
        s.add(candidate)
        s.flush()
        audit.record(s, org_id(), current_user.id, "create", "candidate", candidate.id, None, audit.snapshot(candidate))
        data.candidate_id = candidate.id
    else:
        get_or_404(Candidate, data.candidate_id)
    if data.amount is None:
        exam = _find_exam(service.catalog(s, org_id(), info.id), exam_session.exam)
        data.amount = exam.price if exam else None
    return data


# --------------------------------------------------------------------------- one booking


def _load(booking_id: int):
    booking = get_or_404(Booking, booking_id)
    exam_session = db.session().get(ExamSession, booking.session_id)
    candidate = db.session().get(Candidate, booking.candidate_id)
    return booking, exam_session, candidate


def _not_installed(booking: Booking, status: int = 200):
    """A booking whose provider plugin is not installed: shown read-only, never a 500."""
    exam_session = db.session().get(ExamSession, booking.session_id)
    candidate = db.session().get(Candidate, booking.candidate_id)
    return htmx.render("bookings/not_installed.html", "bookings/partials/not_installed.html", status=status,
                       booking=booking, exam_session=exam_session, candidate=candidate, state=lifecycle.state_msg(booking.status))


def _detail_context(booking: Booking, exam_session: ExamSession, candidate: Candidate) -> dict[str, Any]:
    s = db.session()
    ctx = service.org_context(s, booking.organization_id, booking.provider)
    info = ctx.provider
    now = now_jst()
    policy, policy_error, targets = None, None, []
    if booking.status in service.ACTIVE:
        try:
            policy = service.policy_for(s, booking, exam_session, now, ctx=ctx)
            rows = s.exec(_session_query(booking.provider, booking.exam).where(ExamSession.id != booking.session_id)).all()
            facts = lifecycle.booking_facts(s, ctx, booking, exam_session, now, policy=policy)
            targets = lifecycle.verdicts(ctx, "change", facts, rows)
        except RuleError as exc:  # the provider needs a fact this booking lacks: say so, no 500
            policy_error = exc.message
    return {"info": info, "booking": booking, "exam_session": exam_session, "candidate": candidate,
            "policy": policy, "policy_error": policy_error, "targets": targets,
            "deadlines": deadlines_for([booking.id])[booking.id],
            "account": _masked_account(booking), "account_types": ACCOUNT_TYPES,
            "facts": _shown_facts(info, booking), "state": lifecycle.state_msg(booking.status),
            "expected_state": lifecycle.state_token(booking),
            "outcome_open": booking.status in lifecycle.TRANSITIONS["record_outcome"].sources and exam_session.start <= now,
            "attempt": s.exec(select(Attempt).where(Attempt.booking_id == booking.id)).first()}


def _masked_account(booking: Booking) -> dict[str, str] | None:
    """The refund account as operators see it until the refund is done (decrypted, masked)."""
    account = lifecycle.refund_account(db.session(), booking) if booking.status == "refund_pending" else None
    return masked(account) if account is not None else None


def _shown_facts(info, booking: Booking) -> list[tuple[Msg, Any]]:
    stored = lifecycle.typed_provider_facts(info, booking.provider_facts)
    return [(spec.label, stored[spec.key]) for spec in info.booking_facts if stored.get(spec.key) is not None]


def _detail_response(booking_id: int, errors: dict[str, Msg] | None = None, values=None, status: int | None = None):
    """The booking's detail (full page or partial), re-read after an action."""
    booking, exam_session, candidate = _load(booking_id)
    if booking.provider not in service.providers():
        return _not_installed(booking, status or 200)
    return htmx.render("bookings/detail.html", "bookings/partials/detail.html",
                       status=status or (422 if errors else 200),
                       **_detail_context(booking, exam_session, candidate), errors=errors or {}, values=values or {})


def _act(booking_id: int, name: str, action, prepare=None) -> Any:
    """Run ``action(s, booking, exam_session)`` in one transaction with the form's
    submission key; a refused rule shows next to its field, a lost race (409) with the
    booking's current state; the same form posted again answers like the first post."""
    booking, exam_session, _ = _load(booking_id)
    if booking.provider not in service.providers():
        return _not_installed(booking, 409)
    key = submissions.key_from(request.form)
    if submissions.previous(db.session(), key, org_id()) is not None:
        return _detail_response(booking_id)
    errors: dict[str, Msg] = {}
    status = None
    try:
        lifecycle.check_expected(db.session(), booking, request.form.get("expected_state"))
        extra = prepare(booking, exam_session) if prepare else None
        if isinstance(extra, dict) and extra.get("errors"):
            return _detail_response(booking_id, extra["errors"], request.form)
        with db.transaction() as s:
            claimed = submissions.claim(s, key, org_id(), current_user.id, name)
            action(s, booking, exam_session, extra)
            submissions.finish(s, claimed, url_for("bookings.detail", booking_id=booking_id))
    except RuleError as exc:
        if submissions.is_duplicate(exc):
            return _detail_response(booking_id)
        db.session().expire_all()
        errors = {exc.field or "_": exc.message}
        status = exc.status if exc.status == 409 else 422
    return _detail_response(booking_id, errors, request.form if errors else None, status)


@bp.get("/bookings/<int:booking_id>")
def detail(booking_id: int):
    booking = get_or_404(Booking, booking_id)
    if booking.provider not in service.providers():
        return _not_installed(booking)
    endpoint = service.providers().info(booking.provider).booking_endpoint
    if endpoint:  # the provider handles its bookings on its own pages
        return redirect(url_for(endpoint, booking_id=booking_id))
    return _detail_response(booking_id)


@bp.post("/bookings/<int:booking_id>/change")
def change(booking_id: int):
    def prepare(_booking, _exam_session):
        target_id = int_field(request.form, "session_id")
        if target_id is None:
            raise BadInput("missing_field", Msg("変更先の回を選んでください。", "Choose the new session."), "session_id")
        get_or_404(ExamSession, target_id)
        return target_id

    return _act(booking_id, "change", lambda s, booking, _e, target_id: service.change(s, booking, target_id, current_user.id),
                prepare)


@bp.post("/bookings/<int:booking_id>/cancel")
def cancel(booking_id: int):
    def prepare(booking, exam_session):
        if booking.status in service.ACTIVE and service.policy_for(db.session(), booking, exam_session).cancel.refund:
            account, field_errors = validate_refund_account(request.form)
            return {"errors": field_errors} if field_errors else account
        return None

    return _act(booking_id, "cancel", lambda s, booking, _e, account: service.cancel(s, booking, current_user.id, account),
                prepare)


@bp.post("/bookings/<int:booking_id>/paid")
def paid(booking_id: int):
    return _act(booking_id, "mark_paid", lambda s, booking, _e, _x: service.mark_paid(s, booking, current_user.id))


@bp.post("/bookings/<int:booking_id>/refund-done")
def refund_done(booking_id: int):
    return _act(booking_id, "refund_done", lambda s, booking, _e, _x: service.complete_refund(s, booking, current_user.id))


@bp.post("/bookings/<int:booking_id>/outcome")
def outcome(booking_id: int):
    return _act(booking_id, "record_outcome", lambda s, booking, _e, _x: service.record_outcome(
        s, booking, request.form.get("outcome", ""), current_user.id))
