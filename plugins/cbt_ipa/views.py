"""The plugin's pages under /p/cbt_ipa: sessions, bookings with the IPA date picker,
changes, outcomes and the exam-day calculators. Every stored-data read is scoped to the
signed-in user's organisation; every write is one transaction."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import db, htmx
from portal import bookings as core
from portal.models import Booking, BookingDeadline, Candidate, ExamSession
from portal.rules import STORE_METHODS, BadInput, Msg, RuleError
from portal.rules.parse import now_jst
from portal.scoping import get_or_404, org_id, scoped
from portal.web.forms import int_field

from plugins.cbt_ipa import exam_day, forms, picker, services
from plugins.cbt_ipa.services import PROVIDER_ID

blueprint = Blueprint(PROVIDER_ID, __name__, url_prefix=f"/p/{PROVIDER_ID}")


def _info():
    return core.providers().info(PROVIDER_ID)


def _errors(exc: RuleError) -> dict[str, Msg]:
    return {exc.field or "_": exc.message}


def _sessions(exam: str | None = None, venue: str = "") -> list[ExamSession]:
    query = scoped(ExamSession).where(ExamSession.provider == PROVIDER_ID, ExamSession.start > now_jst())
    if exam:
        query = query.where(ExamSession.exam == exam)
    if venue:
        query = query.where(ExamSession.venue == venue)
    return list(db.session().exec(query.order_by(ExamSession.start)).all())


def _venues(exam: str | None = None) -> list[str]:
    return sorted({s.venue for s in _sessions(exam)})


# --------------------------------------------------------------------------- sessions


@blueprint.route("/sessions", methods=["GET", "POST"])
def sessions():
    info = _info()
    errors: dict[str, Msg] = {}
    values: Any = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            with db.transaction() as s:
                _create_session(s, info)
            if not htmx.is_htmx():
                return redirect(url_for(".sessions"))
            values = {}
        except RuleError as exc:
            errors = _errors(exc)
    rows = db.session().exec(scoped(ExamSession).where(ExamSession.provider == PROVIDER_ID).order_by(ExamSession.start)).all()
    return htmx.render("cbt_ipa/sessions.html", "cbt_ipa/partials/sessions.html", status=422 if errors else 200,
                       info=info, rows=rows, errors=errors, values=values)


def _create_session(s, info) -> ExamSession:
    form = request.form
    exam = info.exam(form.get("exam"))
    if exam is None:
        raise BadInput("unknown_exam", Msg("試験を選んでください。", "Choose an exam."), "exam")
    start = forms.datetime_field(form, "start", required=True)
    return services.create_session(s, org_id(), current_user.id, exam, start, form.get("venue") or "",
                                   int_field(form, "capacity"))


# --------------------------------------------------------------------------- bookings


@blueprint.get("/bookings")
def booking_list():
    with db.transaction() as s:  # IPA-PAY: unpaid past the due date → void before listing
        core.expire_lapsed(s, org_id())
    rows = db.session().exec(
        select(Booking, ExamSession, Candidate).join(ExamSession, ExamSession.id == Booking.session_id)
        .join(Candidate, Candidate.id == Booking.candidate_id)
        .where(Booking.organization_id == org_id(), Booking.provider == PROVIDER_ID)
        .order_by(ExamSession.start, Booking.id)).all()
    return htmx.render("cbt_ipa/bookings.html", "cbt_ipa/partials/bookings.html", info=_info(), rows=rows)


def _book_context(values, errors) -> dict[str, Any]:
    info = _info()
    exam = values.get("exam") or info.exams[0].code
    return {"info": info, "values": values, "errors": errors, "exam": exam, "venues": _venues(exam),
            "candidates": db.session().exec(scoped(Candidate).order_by(Candidate.family_kana, Candidate.id)).all(),
            **_new_booking_dates(values)}


def _new_booking_dates(values) -> dict[str, Any]:
    """The date picker of a new booking for the facts entered so far."""
    info = _info()
    form = dict(values)
    form["exam"] = form.get("exam") or info.exams[0].code
    form["payment_method"] = form.get("payment_method") or info.payment_methods[0]
    picker_error = None
    try:
        data = forms.booking_input(form, info.payment_methods)
        if data.candidate_id is not None:
            get_or_404(Candidate, data.candidate_id)
        rules = services.new_booking_rules(db.session(), org_id(), data, now_jst())
        choices = picker.choices(_sessions(data.exam, forms.venue_filter(form)), rules)
    except RuleError as exc:
        picker_error, rules, choices = exc.message, None, []
    raw = str(form.get("session_id") or "")
    selected = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    return {"choices": choices, "picker": rules, "picker_error": picker_error, "selected": selected}


@blueprint.get("/book/dates")
def book_dates():
    return htmx.render("cbt_ipa/book.html", "cbt_ipa/partials/dates.html", **_book_context(request.args, {}))


@blueprint.route("/book", methods=["GET", "POST"])
def book():
    errors: dict[str, Msg] = {}
    values: Any = request.form if request.method == "POST" else {"session_id": request.args.get("session", ""),
                                                                 "exam": request.args.get("exam", "")}
    if request.method == "POST":
        try:
            with db.transaction() as s:
                booking = _book(s)
            target = url_for(".detail", booking_id=booking.id)
            return htmx.redirect(target) if htmx.is_htmx() else redirect(target)
        except RuleError as exc:
            errors = _errors(exc)
    return htmx.render("cbt_ipa/book.html", "cbt_ipa/partials/book_form.html", status=422 if errors else 200,
                       **_book_context(values, errors))


def _book(s) -> Booking:
    form, info, now = request.form, _info(), now_jst()
    data = forms.booking_input(form, info.payment_methods)
    session_id = int_field(form, "session_id")
    if session_id is None:
        raise BadInput("missing_field", Msg("試験日を選んでください。", "Choose an exam date."), "session_id")
    exam_session = get_or_404(ExamSession, session_id)
    if data.candidate_id is None:
        family, given = (form.get("family_name") or "").strip(), (form.get("given_name") or "").strip()
        if not family or not given:
            raise BadInput("missing_field", Msg("受験者を選ぶか、姓と名を入力してください。",
                                                "Choose a candidate or enter family and given name."), "candidate_id")
        candidate = Candidate(organization_id=org_id(), family_name=family[:100], given_name=given[:100])
        s.add(candidate)
        s.flush()
        data.candidate_id = candidate.id
    else:
        get_or_404(Candidate, data.candidate_id)
    unpaid_store = data.payment_method in STORE_METHODS and form.get("paid") not in ("on", "true")
    voucher = data.payment_method == "voucher"
    if voucher and data.voucher_issued_on is None:
        raise BadInput("missing_field", Msg("バウチャー発行日を入力してください。", "Enter the voucher issue date."), "voucher_issued_on")
    new = core.NewBooking(
        candidate_id=data.candidate_id, session_id=exam_session.id, payment_method=data.payment_method,
        paid=not unpaid_store, amount=(info.exam(exam_session.exam).price if info.exam(exam_session.exam) else None),
        payment_due_at=forms.datetime_field(form, "payment_due", required=True) if unpaid_store else None,
        voucher_code=((form.get("voucher_code") or "").strip()[:50] or None) if voucher else None)
    return services.book(s, org_id(), current_user.id, data, new, now)


# --------------------------------------------------------------------------- one booking


def _load(booking_id: int):
    booking = get_or_404(Booking, booking_id)
    if booking.provider != PROVIDER_ID:
        abort(404)
    return booking, db.session().get(ExamSession, booking.session_id), db.session().get(Candidate, booking.candidate_id)


def _detail_context(booking_id: int, errors: dict[str, Msg], venue: str = "") -> dict[str, Any]:
    booking, exam_session, candidate = _load(booking_id)
    now = now_jst()
    context: dict[str, Any] = {
        "info": _info(), "booking": booking, "exam_session": exam_session, "candidate": candidate, "errors": errors,
        "facts": services.stored_facts(db.session(), booking), "policy": None, "choices": [], "picker": None,
        "picker_error": None,
        "venue": venue, "venues": _venues(booking.exam), "selected": None, "started": exam_session.start <= now,
        "deadlines": db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking.id)
                                       .order_by(BookingDeadline.at)).all(),
    }
    if booking.status in core.ACTIVE:
        try:
            decision = services.policy_for(db.session(), booking, exam_session, now)
            context["policy"] = decision
            rules = services.change_rules(db.session(), booking, exam_session, now, decision)
            context["picker"], context["choices"] = rules, picker.choices(_sessions(booking.exam, venue), rules)
        except RuleError as exc:
            context["picker_error"] = exc.message
    return context


@blueprint.get("/bookings/<int:booking_id>")
def detail(booking_id: int):
    return htmx.render("cbt_ipa/booking.html", "cbt_ipa/partials/booking.html", **_detail_context(booking_id, {}))


@blueprint.get("/bookings/<int:booking_id>/dates")
def change_dates(booking_id: int):
    return htmx.render("cbt_ipa/booking.html", "cbt_ipa/partials/dates.html",
                       **_detail_context(booking_id, {}, forms.venue_filter(request.args)))


def _act(booking_id: int, action) -> Any:
    booking, _, _ = _load(booking_id)
    errors: dict[str, Msg] = {}
    try:
        with db.transaction() as s:
            action(s, booking)
    except RuleError as exc:
        errors = _errors(exc)
    return htmx.render("cbt_ipa/booking.html", "cbt_ipa/partials/booking.html", status=422 if errors else 200,
                       **_detail_context(booking_id, errors))


@blueprint.post("/bookings/<int:booking_id>/change")
def change(booking_id: int):
    def action(s, booking):
        target_id = int_field(request.form, "session_id")
        if target_id is None:
            raise BadInput("missing_field", Msg("変更先の試験日を選んでください。", "Choose the new exam date."), "session_id")
        get_or_404(ExamSession, target_id)
        services.change(s, booking, target_id, current_user.id, now_jst())
    return _act(booking_id, action)


@blueprint.post("/bookings/<int:booking_id>/outcome")
def outcome(booking_id: int):
    return _act(booking_id, lambda s, booking: services.record_outcome(
        s, booking, request.form.get("outcome", ""), current_user.id, now_jst()))


@blueprint.post("/bookings/<int:booking_id>/paid")
def paid(booking_id: int):
    def action(s, booking):
        if booking.status in core.ACTIVE and not booking.paid:
            core.mark_paid(s, booking, current_user.id)
    return _act(booking_id, action)


# --------------------------------------------------------------------------- exam day


@blueprint.get("/exam-day")
def exam_day_page():
    return htmx.render("cbt_ipa/exam_day.html", "cbt_ipa/exam_day.html", info=_info(), late=None, failure=None,
                       errors={}, values={})


@blueprint.post("/exam-day/late")
def late_arrival():
    info, errors, result = _info(), {}, None
    try:
        exam = info.exam(request.form.get("exam"))
        if exam is None:
            raise BadInput("unknown_exam", Msg("試験を選んでください。", "Choose an exam."), "exam")
        result = exam_day.late_arrival(exam, forms.datetime_field(request.form, "exam_start", required=True),
                                       forms.datetime_field(request.form, "arrived_at", required=True))
    except RuleError as exc:
        errors = _errors(exc)
    return htmx.render("cbt_ipa/exam_day.html", "cbt_ipa/partials/late_result.html", status=422 if errors else 200,
                       info=info, late=result, failure=None, errors=errors, values=request.form)


@blueprint.post("/exam-day/failure")
def equipment_failure():
    info, errors, result = _info(), {}, None
    try:
        form = request.form
        result = exam_day.equipment_failure(
            forms.datetime_field(form, "confirmed_at", required=True), forms.datetime_field(form, "resumed_at"),
            forms.datetime_field(form, "checked_at") or now_jst(), forms.date_field(form, "notice_on"))
    except RuleError as exc:
        errors = _errors(exc)
    return htmx.render("cbt_ipa/exam_day.html", "cbt_ipa/partials/failure_result.html", status=422 if errors else 200,
                       info=info, late=None, failure=result, errors=errors, values=request.form)
