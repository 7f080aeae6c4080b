"""Sessions and bookings for providers whose ``ProviderInfo.bookings`` is set."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_
from sqlmodel import select

from portal import bookings as service
from portal import audit, db, htmx
from portal.inputs import MAX_PAGE, MAX_WITHIN_DAYS, int_arg
from portal.models import Booking, BookingDeadline, Candidate, ExamSession
from portal.rules import STORE_METHODS, BadInput, Msg, RuleError
from portal.rules.parse import now_jst
from portal.scoping import get_or_404, org_id, scoped
from portal.web.forms import datetime_local, int_field
from portal.rules import parse
from portal.zengin import ACCOUNT_TYPES, masked, validate_refund_account

bp = Blueprint("bookings", __name__)

STATUSES = ("booked", "refund_pending", "cancelled", "expired")
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


@bp.get("/providers/<provider_id>/bookings")
def booking_list(provider_id: str):
    info = _booking_provider(provider_id)
    with db.transaction() as s:  # lapsed bookings (unpaid past due) expire before listing
        service.expire_lapsed(s, org_id())
    args = request.args
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
    page = int_arg(args, "page", 1, minimum=1, maximum=MAX_PAGE)
    size = 25
    total = db.session().exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.session().exec(query.offset((page - 1) * size).limit(size)).all()
    deadlines = _deadlines_for([b.id for b, _, _ in rows])
    filters = {"status": status, "sort": sort, "q": q, "within": within}
    response = htmx.render("bookings/list.html", "bookings/partials/table.html", info=info, rows=rows,
                           deadlines=deadlines, filters=filters, page=page, pages=max(1, -(-total // size)), total=total)
    return response


def _deadlines_for(booking_ids: list[int]) -> dict[int, list[BookingDeadline]]:
    result: dict[int, list[BookingDeadline]] = {i: [] for i in booking_ids}
    if booking_ids:
        for d in db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id.in_(booking_ids))
                                   .order_by(BookingDeadline.at)).all():
            result[d.booking_id].append(d)
    return result


# --------------------------------------------------------------------------- book


@bp.route("/providers/<provider_id>/book", methods=["GET", "POST"])
def book(provider_id: str):
    info = _booking_provider(provider_id)
    errors: dict[str, Msg] = {}
    values: Any = request.form if request.method == "POST" else {"session_id": request.args.get("session", "")}
    if request.method == "POST":
        try:
            with db.transaction() as s:
                booking = service.book(s, org_id(), current_user.id, _new_booking(s, info))
            target = url_for("bookings.detail", booking_id=booking.id)
            return htmx.redirect(target) if htmx.is_htmx() else redirect(target)
        except RuleError as exc:
            errors[exc.field or "_"] = exc.message
    sessions_ = db.session().exec(scoped(ExamSession).where(ExamSession.provider == provider_id,
                                                            ExamSession.start > now_jst())
                                  .order_by(ExamSession.start)).all()
    candidates = db.session().exec(scoped(Candidate).order_by(Candidate.family_kana, Candidate.id)).all()
    status = 422 if errors else 200
    return htmx.render("bookings/book.html", "bookings/partials/book_form.html", status=status, info=info,
                       sessions=sessions_, candidates=candidates, errors=errors, values=values)


def _new_booking(s, info) -> service.NewBooking:
    form = request.form
    session_id = int_field(form, "session_id")
    if session_id is None:
        raise BadInput("missing_field", Msg("試験回を選んでください。", "Choose a session."), "session_id")
    exam_session = get_or_404(ExamSession, session_id)
    if exam_session.provider != info.id:
        abort(404)
    candidate_id = int_field(form, "candidate_id")
    if candidate_id is None:
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
        candidate_id = candidate.id
    else:
        get_or_404(Candidate, candidate_id)
    method = form.get("payment_method") or ""
    if method not in info.payment_methods:
        raise BadInput("invalid_field", Msg("支払方法を選んでください。", "Choose a payment method."), "payment_method")
    due = None
    if method in STORE_METHODS and form.get("paid") not in ("on", "true"):
        due = parse.datetime_value(datetime_local(form["payment_due"]) if form.get("payment_due") else None, "payment_due")
    exam = _find_exam(service.catalog(s, org_id(), info.id), exam_session.exam)
    amount = int_field(form, "amount")
    return service.NewBooking(
        candidate_id=candidate_id, session_id=exam_session.id, payment_method=method,
        paid=method in ("credit_card", "voucher") or form.get("paid") in ("on", "true"),
        amount=amount if amount is not None else (exam.price if exam else None),
        payment_due_at=due, voucher_code=(form.get("voucher_code") or "").strip()[:50] or None,
    )


# --------------------------------------------------------------------------- one booking


def _load(booking_id: int):
    booking = get_or_404(Booking, booking_id)
    exam_session = db.session().get(ExamSession, booking.session_id)
    candidate = db.session().get(Candidate, booking.candidate_id)
    return booking, exam_session, candidate


def _detail_context(booking: Booking, exam_session: ExamSession, candidate: Candidate) -> dict[str, Any]:
    info = service.providers().info(booking.provider)
    policy, policy_error = None, None
    if booking.status == "booked":
        try:
            policy = service.policy_for(db.session(), booking, exam_session)
        except RuleError as exc:  # the provider needs a fact this booking lacks: say so, no 500
            policy_error = exc.message
    targets = db.session().exec(scoped(ExamSession).where(
        ExamSession.provider == booking.provider, ExamSession.exam == booking.exam,
        ExamSession.id != booking.session_id, ExamSession.start > now_jst()).order_by(ExamSession.start)).all()
    return {"info": info, "booking": booking, "exam_session": exam_session, "candidate": candidate,
            "policy": policy, "policy_error": policy_error, "targets": targets, "deadlines": _deadlines_for([booking.id])[booking.id],
            "account": _masked_account(booking), "account_types": ACCOUNT_TYPES}


def _masked_account(booking: Booking) -> dict[str, str] | None:
    account = service.refund_account(db.session(), booking) if booking.status == "refund_pending" else None
    return masked(account) if account is not None else None


def _detail_response(booking_id: int, errors: dict[str, Msg] | None = None, values=None):
    """The booking's detail (full page or partial), re-read after an action."""
    booking, exam_session, candidate = _load(booking_id)
    return htmx.render("bookings/detail.html", "bookings/partials/detail.html", status=422 if errors else 200,
                       **_detail_context(booking, exam_session, candidate), errors=errors or {}, values=values or {})


def _act(booking_id: int, action) -> Any:
    """Run ``action(booking, exam_session)``; a refused rule shows next to its field."""
    booking, exam_session, _ = _load(booking_id)
    errors: dict[str, Msg] = {}
    try:
        errors = action(booking, exam_session) or {}
    except RuleError as exc:
        errors = {exc.field or "_": exc.message}
    return _detail_response(booking_id, errors, request.form)


@bp.get("/bookings/<int:booking_id>")
def detail(booking_id: int):
    booking = get_or_404(Booking, booking_id)
    endpoint = service.providers().info(booking.provider).booking_endpoint
    if endpoint:  # the provider handles its bookings on its own pages
        return redirect(url_for(endpoint, booking_id=booking_id))
    return _detail_response(booking_id)


@bp.post("/bookings/<int:booking_id>/change")
def change(booking_id: int):
    def action(booking, _exam_session):
        target_id = int_field(request.form, "session_id")
        if target_id is None:
            raise BadInput("missing_field", Msg("変更先の回を選んでください。", "Choose the new session."), "session_id")
        get_or_404(ExamSession, target_id)
        with db.transaction() as s:
            service.change(s, booking, target_id, current_user.id)
    return _act(booking_id, action)


@bp.post("/bookings/<int:booking_id>/cancel")
def cancel(booking_id: int):
    def action(booking, exam_session):
        account = None
        if service.policy_for(db.session(), booking, exam_session).cancel.refund:
            account, field_errors = validate_refund_account(request.form)
            if field_errors:
                return field_errors
        with db.transaction() as s:
            service.cancel(s, booking, current_user.id, account)
    return _act(booking_id, action)


@bp.post("/bookings/<int:booking_id>/paid")
def paid(booking_id: int):
    def action(booking, _exam_session):
        if booking.status == "booked" and not booking.paid:
            with db.transaction() as s:
                service.mark_paid(s, booking, current_user.id)
    return _act(booking_id, action)


@bp.post("/bookings/<int:booking_id>/refund-done")
def refund_done(booking_id: int):
    def action(booking, _exam_session):
        if booking.status == "refund_pending":
            with db.transaction() as s:
                service.complete_refund(s, booking, current_user.id)
    return _act(booking_id, action)
