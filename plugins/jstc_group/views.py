"""Pages of the JSTC group workflow (HTMX): sessions, a group's page with the live quote,
the bulk form download and its one upload, the invoice, results entry."""
from __future__ import annotations

from datetime import datetime, time
from io import BytesIO
from typing import Any

from flask import Blueprint, current_app, redirect, request, send_file, url_for
from flask_login import current_user

from portal.sdk import (
    JST, DeadlineQuery, Msg, Organization, PolicyFacts, QuoteQuery, RuleError, db, end_of_day, get_or_404, htmx,
    int_field, now_jst, org_id, scoped,
)
from portal.sdk.bookings import org_context
from portal.sdk.parse import date_value

from plugins.jstc_group import bulk_form, services
from plugins.jstc_group.grades import GRADE_CODES, GRADES, PROFESSIONAL
from plugins.jstc_group.models import JstcApplication, JstcExaminee, JstcSession
from plugins.jstc_group.rules import MARK_LABELS

PROVIDER_ID = "jstc_group"
bp = Blueprint(PROVIDER_ID, __name__, url_prefix=f"/p/{PROVIDER_ID}")


def _providers():
    return current_app.extensions["exam_portal.providers"]


def _ctx():
    return org_context(db.session(), org_id(), PROVIDER_ID)


def _quote(counts: dict[str, int]):
    """The provider's quote through the hooks (so a wrapping plugin's adjustment shows)."""
    if not sum(counts.values()):
        return None
    return _providers().quote(_ctx(), QuoteQuery({"examinees": counts}))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"grades": GRADES, "grade_codes": GRADE_CODES, "mark_labels": MARK_LABELS, "professional": PROFESSIONAL}


# --------------------------------------------------------------------------- sessions


@bp.get("/")
def index():
    return htmx.render("jstc_group/index.html", "jstc_group/partials/sessions.html", **_index_context({}, {}))


def _index_context(errors: dict[str, Msg], values: Any) -> dict[str, Any]:
    sessions = db.session().exec(scoped(JstcSession).order_by(JstcSession.exam_date.desc())).all()
    applications = {a.session_id: a for a in db.session().exec(scoped(JstcApplication)).all()}
    return {"sessions": sessions, "applications": applications, "errors": errors, "values": values,
            "info": _providers().info(PROVIDER_ID)}


@bp.post("/sessions")
def create_session():
    try:
        with db.transaction() as s:
            services.create_session(s, org_id(), current_user.id, request.form)
    except RuleError as exc:
        return htmx.render("jstc_group/index.html", "jstc_group/partials/sessions.html", status=422,
                           **_index_context({exc.field or "_": exc.message}, request.form))
    if not htmx.is_htmx():
        return redirect(url_for(".index"))
    return htmx.render("jstc_group/index.html", "jstc_group/partials/sessions.html", **_index_context({}, {}))


@bp.post("/sessions/apply/<int:session_id>")
def create_application(session_id: int):
    session = get_or_404(JstcSession, session_id)
    try:
        with db.transaction() as s:
            application = services.create_application(s, org_id(), current_user.id, session)
    except RuleError as exc:
        return htmx.render("jstc_group/index.html", "jstc_group/partials/sessions.html", status=422,
                           **_index_context({"_": exc.message}, {}))
    target = url_for(".group", application_id=application.id)
    return htmx.redirect(target) if htmx.is_htmx() else redirect(target)


# --------------------------------------------------------------------------- a group's page


def _load(application_id: int) -> tuple[JstcApplication, JstcSession]:
    application = get_or_404(JstcApplication, application_id)
    return application, get_or_404(JstcSession, application.session_id)


def _group_context(application: JstcApplication, session: JstcSession, **extra: Any) -> dict[str, Any]:
    rows = services.examinees(db.session(), application)
    counts = services.grade_counts(rows)
    now = now_jst()
    dates = session.dates()
    context = {
        "application": application, "session": session, "dates": dates, "rows": rows, "counts": counts,
        "quote": _quote(counts), "lock": services.lock_reason(application, dates, now),
        "upload_blocked": services.upload_refusal(application, dates, now),
        "deadline": end_of_day(dates.application_deadline), "window": dates.window_state(now),
        "errors": {}, "values": {}, "problems": [],
    }
    context.update(extra)
    return context


@bp.get("/groups/<int:application_id>")
def group(application_id: int):
    application, session = _load(application_id)
    return htmx.render("jstc_group/group.html", "jstc_group/partials/group_body.html", **_group_context(application, session))


@bp.post("/details/<int:application_id>")
def update_details(application_id: int):
    application, session = _load(application_id)
    try:
        with db.transaction() as s:
            services.update_details(s, application, session.dates(), current_user.id, request.form, now_jst())
    except RuleError as exc:
        db.session().refresh(application)
        return htmx.render("jstc_group/group.html", "jstc_group/partials/group_body.html", status=422,
                           **_group_context(application, session, errors={exc.field or "_": exc.message},
                                            values=request.form))
    return _group_response(application, session)


def _group_response(application: JstcApplication, session: JstcSession):
    if not htmx.is_htmx():
        return redirect(url_for(".group", application_id=application.id))
    return htmx.render("jstc_group/group.html", "jstc_group/partials/group_body.html", **_group_context(application, session))


@bp.post("/examinees/<int:application_id>")
def add_examinee(application_id: int):
    """Add one examinee by hand; the roster and the live quote come back (HTMX)."""
    application, session = _load(application_id)
    try:
        with db.transaction() as s:
            services.add_draft(s, application, session.dates(), current_user.id, request.form, now_jst())
    except RuleError as exc:
        return htmx.render("jstc_group/group.html", "jstc_group/partials/roster.html", status=422,
                           **_group_context(application, session, errors={"examinee": exc.message}, values=request.form))
    if not htmx.is_htmx():
        return redirect(url_for(".group", application_id=application.id))
    return htmx.render("jstc_group/group.html", "jstc_group/partials/roster.html", **_group_context(application, session))


@bp.post("/examinees/delete/<int:examinee_id>")
def delete_examinee(examinee_id: int):
    examinee = get_or_404(JstcExaminee, examinee_id)
    application, session = _load(examinee.application_id)
    try:
        with db.transaction() as s:
            services.delete_draft(s, application, session.dates(), current_user.id, examinee, now_jst())
    except RuleError as exc:
        return htmx.render("jstc_group/group.html", "jstc_group/partials/roster.html", status=422,
                           **_group_context(application, session, errors={"examinee": exc.message}))
    if not htmx.is_htmx():
        return redirect(url_for(".group", application_id=application.id))
    return htmx.render("jstc_group/group.html", "jstc_group/partials/roster.html", **_group_context(application, session))


# --------------------------------------------------------------------------- the bulk form


@bp.get("/bulk-form/<int:application_id>")
def download_form(application_id: int):
    """The form of this session, pre-filled with the examinees listed so far (blank if none)."""
    application, session = _load(application_id)
    rows = [bulk_form.FormRow(e.line, e.family_name, e.given_name, e.family_kana, e.given_kana, e.grade)
            for e in services.examinees(db.session(), application)]
    organization = db.session().get(Organization, org_id())
    data = bulk_form.build_form(session.dates(), session.id, organization.name if organization else "", rows)
    return send_file(BytesIO(data), as_attachment=True, download_name=f"jstc-bulk-form-{session.exam_date.isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/bulk-form/upload/<int:application_id>")
def upload(application_id: int):
    application, session = _load(application_id)
    file = request.files.get("form")
    try:
        if file is None or not file.filename:
            raise services.UploadRefused(Msg("アップロードする一括申込書(.xlsx)を選んでください。",
                                             "Choose the filled bulk form (.xlsx) to upload."))
        data = file.read(bulk_form.MAX_BYTES + 1)
        with db.transaction() as s:
            services.apply_upload(s, application, session.dates(), current_user.id, data, file.filename, now_jst())
    except services.UploadRefused as exc:
        db.session().refresh(application)
        return htmx.render("jstc_group/group.html", "jstc_group/partials/upload.html", status=422,
                           **_group_context(application, session, errors={"form": exc.message}, problems=exc.problems))
    target = url_for(".group", application_id=application.id)
    return htmx.redirect(target) if htmx.is_htmx() else redirect(target)


# --------------------------------------------------------------------------- invoice and results


@bp.get("/invoice/<int:application_id>")
def invoice(application_id: int):
    application, session = _load(application_id)
    organization = db.session().get(Organization, org_id())
    return htmx.render("jstc_group/invoice.html", "jstc_group/partials/invoice.html",
                       organization=organization, **_group_context(application, session))


@bp.get("/results/<int:application_id>")
def results(application_id: int):
    application, session = _load(application_id)
    return htmx.render("jstc_group/results.html", "jstc_group/partials/results.html", **_results_context(application, session))


def _results_context(application: JstcApplication, session: JstcSession, **extra: Any) -> dict[str, Any]:
    rows = services.examinees(db.session(), application)
    return {"application": application, "session": session, "rows": rows, "summary": services.results_summary(rows),
            "closed": services.results_open(application, session.dates(), now_jst().date()), "errors": {}, **extra}


@bp.post("/results/record/<int:examinee_id>")
def record_result(examinee_id: int):
    examinee = get_or_404(JstcExaminee, examinee_id)
    application, session = _load(examinee.application_id)
    try:
        score = int_field(request.form, "score")
        with db.transaction() as s:
            services.record_result(s, application, session.dates(), current_user.id, examinee, score,
                                   request.form.get("question_below_half") in ("on", "true", "1"), now_jst().date())
    except RuleError as exc:
        db.session().refresh(examinee)
        return htmx.render("jstc_group/results.html", "jstc_group/partials/results.html", status=422,
                           **_results_context(application, session, errors={examinee.id: exc.message}))
    if not htmx.is_htmx():
        return redirect(url_for(".results", application_id=application.id))
    return htmx.render("jstc_group/results.html", "jstc_group/partials/results.html", **_results_context(application, session))


# --------------------------------------------------------------------------- panel calculator


@bp.post("/calculate")
def calculate():
    """The brand panel's calculator: headcount per grade → quote; exam date → deadline and
    policy (``submitted`` is a checkbox). All answers come through the provider hooks."""
    ctx = _ctx()
    result: dict[str, Any] = {"error": None, "quote": None, "deadlines": [], "policy": None}
    try:
        counts = {code: int_field(request.form, code) or 0 for code in GRADE_CODES}
        if sum(counts.values()):
            result["quote"] = _quote(counts)
        exam_date = date_value(request.form.get("exam_date"), "exam_date", required=False)
        if exam_date is not None:
            exam_start = datetime.combine(exam_date, time(0, 0), JST)
            result["deadlines"] = _providers().deadlines(ctx, DeadlineQuery(None, exam_start, {}))
            facts = PolicyFacts(at=now_jst(), exam_start=exam_start, submitted=request.form.get("submitted") == "on")
            result["policy"] = _providers().policy(ctx, facts)
    except RuleError as exc:
        result["error"] = exc
    return htmx.render("providers/page.html", "jstc_group/partials/calculator_result.html", info=ctx.provider, ctx=ctx,
                       result=result, values=request.form)
