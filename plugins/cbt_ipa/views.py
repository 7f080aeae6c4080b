"""The plugin's own pages under /p/cbt_ipa: the exam-day calculators (IPA-DAY-1/2).
Sessions and bookings are the core's pages (the IPA rules answer through the hooks)."""
from __future__ import annotations

from flask import Blueprint, request

from portal.sdk import BadInput, Msg, RuleError, htmx, now_jst, providers

from plugins.cbt_ipa import exam_day, forms

PROVIDER_ID = "cbt_ipa"

blueprint = Blueprint(PROVIDER_ID, __name__, url_prefix=f"/p/{PROVIDER_ID}")


def _info():
    return providers().info(PROVIDER_ID)


def _errors(exc: RuleError) -> dict[str, Msg]:
    return {exc.field or "_": exc.message}


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
