"""The venue workflow pages (HTMX): exam days, candidates, CSV import, application copy,
late additions, catalog, contract year. Every query is scoped to the user's organisation;
every write is one transaction; a refusal answers 422 with the partial and changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal.sdk import (
    AttemptFact, BadInput, Msg, RuleError, audit, conflict_response, datetime_local, db, get_or_404, htmx, int_field,
    now_jst, org_id, parse, require_admin, scoped, status_of, whatif,
)

from plugins.odyssey import contract, csv_import, deadlines, purge, services, states
from plugins.odyssey.catalog import FAMILIES, FAMILY_NAMES, PRICE_KIND_NAMES, PRICE_KIND_PREFIX, offered_kinds, unpriced
from plugins.odyssey.fields import (
    CANDIDATE_TYPES, COLUMNS, GENDERS, LABELS, PREFECTURES, SUBJECT_FIELDS, FieldError, validate,
)
from plugins.odyssey.models import (
    OdysseyCandidate, OdysseyExamDay, OdysseyImport, OdysseyPurgeLog, OdysseySubject,
)

bp = Blueprint("odyssey", __name__, url_prefix="/p/odyssey", cli_group="odyssey")


def _now() -> datetime:
    return now_jst()


def _ctx_common() -> dict[str, Any]:
    return {"state_label": lambda s: states.LABELS[s], "price_kind_name": lambda k: PRICE_KIND_NAMES[k],
            "unpriced": unpriced,
            "family_name": lambda f: FAMILY_NAMES[f], "labels": LABELS, "genders": GENDERS,
            "candidate_types": CANDIDATE_TYPES, "prefectures": PREFECTURES, "prefix": PRICE_KIND_PREFIX}


# --------------------------------------------------------------------------- exam days


def _index(status: int = 200, error: Msg | None = None, values: dict | None = None):
    s = db.session()
    with db.transaction():
        services.advance_states(s, org_id(), _now())
    days = s.exec(scoped(OdysseyExamDay).order_by(OdysseyExamDay.exam_date.desc())).all()
    summary = {d.id: services.remittance(s, d) for d in days}
    counts = {d.id: len(services.candidates(s, d)) for d in days}
    return htmx.render("odyssey/index.html", "odyssey/partials/days.html", status=status, days=days, summary=summary,
                       counts=counts, error=error, values=values or {}, **_ctx_common())


@bp.get("/")
def index():
    return _index()


@bp.post("/days")
def create_day():
    form = request.form
    try:
        start = parse.datetime_value(datetime_local(form.get("exam_start") or ""), "exam_start")
        with db.transaction() as s:
            ctx = services.rule_context(s, org_id())
            day = services.create_exam_day(s, ctx, org_id(), current_user.id, start, _now())
    except RuleError as exc:
        return _index(status_of(exc), exc.message, dict(form))
    if htmx.is_htmx():
        return htmx.redirect(url_for("odyssey.day", day_id=day.id))
    return redirect(url_for("odyssey.day", day_id=day.id))


def _day_context(day: OdysseyExamDay) -> dict[str, Any]:
    s = db.session()
    now = _now()
    ctx = services.rule_context(s, org_id())
    people = services.candidates(s, day)
    by_candidate: dict[int, list] = {}
    for t in services.tests(s, day):
        by_candidate.setdefault(t.candidate_id, []).append(t)
    late_deadline = deadlines.late_addition_deadline(ctx.calendar, day.exam_start, bool(ctx.setting(deadlines.SETTING_STRICT_13)))
    return {
        "day": day, "state": states.state_at(day, now), "people": people, "tests_by": by_candidate,
        "remit": services.remittance(s, day), "can_edit": states.can_edit(day, now),
        "can_withdraw": states.can_withdraw(day, now),
        "can_late_add": states.can_late_add(day, now) and now <= late_deadline.at,
        "late_deadline": late_deadline, "self_exam_deadline": deadlines.self_exam_request_deadline(ctx.calendar, day.exam_date),
        "imported": s.exec(select(OdysseyImport).where(OdysseyImport.exam_day_id == day.id)).first(),
        "subjects": list(services.subjects(s, org_id()).values()), "offered_kinds": offered_kinds,
        "venue": services.stored_venue(s, org_id()), **_ctx_common(),
    }


def _day_page(day: OdysseyExamDay, status: int = 200, **extra):
    s = db.session()
    with db.transaction():
        services.advance_states(s, org_id(), _now())
    return htmx.render("odyssey/day.html", "odyssey/partials/day_body.html", status=status,
                       **{"errors": {}, "values": {}, "error": None, "import_result": None, **_day_context(day), **extra})


@bp.get("/day/<int:day_id>")
def day(day_id: int):
    return _day_page(get_or_404(OdysseyExamDay, day_id))


def _seen_version(exam_day: OdysseyExamDay) -> int:
    """The version of the day the user acted on: posted by the day page (``hx-vals``),
    else the one this request loaded. A one-time action applies to that version only."""
    posted = (request.form.get("version") or "").strip()
    return int(posted) if posted.isdigit() else exam_day.version


def _act(day_id: int, action):
    """Run one state action on a day in one transaction; a refusal is a 422 with the
    reason, a lost race a 409 with the day's current state."""
    exam_day = get_or_404(OdysseyExamDay, day_id)
    version = _seen_version(exam_day)
    try:
        with db.transaction() as s:
            action(s, exam_day, version)
    except RuleError as exc:
        db.session().refresh(exam_day)
        return _day_page(exam_day, status_of(exc), error=exc.message)
    return _day_page(exam_day)


@bp.post("/confirm/<int:day_id>")
def confirm(day_id: int):
    return _act(day_id, lambda s, d, v: services.confirm(s, org_id(), current_user.id, d, _now(), v))


@bp.post("/withdraw/<int:day_id>")
def withdraw(day_id: int):
    return _act(day_id, lambda s, d, v: services.withdraw(s, org_id(), current_user.id, d, _now(), v))


@bp.post("/self-exam/<int:day_id>")
def self_exam(day_id: int):
    def action(s, d, v):
        if request.form.get("status"):
            services.set_self_exam_answer(s, org_id(), current_user.id, d, request.form["status"], _now(), v)
        else:
            services.request_self_exam(s, services.rule_context(s, org_id()), org_id(), current_user.id, d, _now(), v)
    return _act(day_id, action)


@bp.post("/results/<int:day_id>")
def results(day_id: int):
    outcomes = {int(k.split("_", 1)[1]): v for k, v in request.form.items() if k.startswith("outcome_") and k[8:].isascii() and k[8:].isdigit() and len(k) <= 17}
    return _act(day_id, lambda s, d, v: services.enter_results(s, org_id(), current_user.id, d, outcomes, _now(), v))


@bp.post("/complete/<int:day_id>")
def complete(day_id: int):
    return _act(day_id, lambda s, d, v: services.complete(s, org_id(), current_user.id, d, _now(), v))


@bp.get("/copy/<int:day_id>")
def application_copy(day_id: int):
    """随時試験 実施申込書(控え) (3.1.2 / 3.3.3): printable with the browser."""
    exam_day = get_or_404(OdysseyExamDay, day_id)
    from portal.sdk import Organization
    return htmx.render("odyssey/copy.html", "odyssey/copy.html", day=exam_day,
                       org=db.session().get(Organization, org_id()), remit=services.remittance(db.session(), exam_day),
                       people=services.candidates(db.session(), exam_day), printed_at=_now(), **_ctx_common())


# --------------------------------------------------------------------------- candidates


def _form_cells(form) -> dict[str, str]:
    """The entry form's subject rows as CSV cells, so form and CSV share one validator."""
    raw = {name: form.get(name, "") for name in COLUMNS.values() if name not in SUBJECT_FIELDS}
    if raw.get("birth_date"):
        raw["birth_date"] = raw["birth_date"].replace("-", "/")
    for i, name in enumerate(SUBJECT_FIELDS, start=1):
        code = (form.get(f"code{i}") or "").strip()
        kind = form.get(f"kind{i}") or "general"
        parts = [f"{'' if kind in ('general', 'voucher') else PRICE_KIND_PREFIX[kind]}{code}"] if code else []
        if code and form.get(f"period{i}"):
            parts.append(form[f"period{i}"].strip())
        if code and form.get(f"ticket{i}"):
            parts.append(form[f"ticket{i}"].strip())
        raw[name] = " ".join(parts)
    return raw


def _vouchers_without_ticket(form) -> list[FieldError]:
    return [FieldError(name, Msg(f"{LABELS[name]}: 受験チケットを利用する場合はチケット番号を半角で入力してください。",
                                 f"{LABELS[name]}: enter the voucher number for a voucher test."))
            for i, name in enumerate(SUBJECT_FIELDS, start=1)
            if form.get(f"code{i}") and form.get(f"kind{i}") == "voucher" and not (form.get(f"ticket{i}") or "").strip()]


def _declared_attempt(form) -> list[AttemptFact]:
    if not form.get("prev_start"):
        return []
    start = parse.datetime_value(datetime_local(form["prev_start"]), "prev_start")
    end = parse.datetime_value(datetime_local(form.get("prev_end") or ""), "prev_end", required=False) or start
    outcome = form.get("prev_outcome")
    if outcome not in ("passed", "failed"):
        raise BadInput("invalid_field", Msg("前回の結果を選んでください。", "Choose the previous result."), "prev_outcome")
    return [AttemptFact(start, end, outcome)]


def _candidate_input(s, form):
    data, errors = validate(_form_cells(form), services.subjects(s, org_id()))
    errors = _vouchers_without_ticket(form) + errors
    if errors:
        raise services.FormErrors(errors)
    return data


def _form_errors(exc: RuleError) -> dict[str, Msg]:
    """Field errors of the candidate form: each next to its field, and the summary next to
    the save button (where the user looks after pressing it)."""
    errors = {e.field: e.message for e in getattr(exc, "errors", [])}
    if not errors and exc.field:
        errors = {exc.field: exc.message}
    return errors


def _form_error_page(exam_day, exc: RuleError, form):
    errors = _form_errors(exc)
    db.session().rollback()
    context = _day_context(exam_day)
    if not (context["can_edit"] or context["can_late_add"]):  # no form on the page: say it at the top
        return _day_page(exam_day, status_of(exc), error=exc.message, errors=errors, values=dict(form))
    return _day_page(exam_day, status_of(exc), errors=errors, form_error=exc.message, values=dict(form))


@bp.post("/add-candidate/<int:day_id>")
def add_candidate(day_id: int):
    exam_day = get_or_404(OdysseyExamDay, day_id)
    form = request.form
    late = form.get("late") == "1"
    version = _seen_version(exam_day)
    try:
        with db.transaction() as s:
            data = _candidate_input(s, form)
            facts = {"declared": _declared_attempt(form), "confirmed_with_odyssey": form.get("confirmed_with_odyssey") == "on"}
            if late:
                services.late_add(s, services.rule_context(s, org_id()), org_id(), current_user.id, exam_day, data, _now(),
                                  version, **facts)
            else:
                services.add_candidate(s, org_id(), current_user.id, exam_day, data, _now(), **facts)
    except RuleError as exc:
        return _form_error_page(exam_day, exc, form)
    warnings = data.warnings
    return _day_page(exam_day, warnings=warnings)


@bp.post("/delete-candidate/<int:candidate_id>")
def delete_candidate(candidate_id: int):
    candidate = get_or_404(OdysseyCandidate, candidate_id)
    exam_day = get_or_404(OdysseyExamDay, candidate.exam_day_id)
    try:
        with db.transaction() as s:
            services.delete_candidate(s, org_id(), current_user.id, candidate, _now())
    except RuleError as exc:
        db.session().refresh(exam_day)
        return _day_page(exam_day, status_of(exc), error=exc.message)
    return _day_page(exam_day)


@bp.route("/candidate/<int:candidate_id>", methods=["GET", "POST"])
def edit_candidate(candidate_id: int):
    candidate = get_or_404(OdysseyCandidate, candidate_id)
    exam_day = get_or_404(OdysseyExamDay, candidate.exam_day_id)
    if request.method == "POST":
        try:
            with db.transaction() as s:
                services.update_candidate(s, org_id(), current_user.id, candidate, _candidate_input(s, request.form), _now())
        except RuleError as exc:
            errors = _form_errors(exc)
            db.session().rollback()
            if db.session().exec(select(OdysseyCandidate.id).where(OdysseyCandidate.id == candidate_id)).first() is None:
                return conflict_response(exc)  # deleted meanwhile: no form left to show
            return htmx.render("odyssey/candidate.html", "odyssey/partials/candidate_form.html", status=status_of(exc),
                               day=exam_day, candidate=candidate, values=dict(request.form), errors=errors,
                               error=None, form_error=exc.message, **_form_context())
        target = url_for("odyssey.day", day_id=exam_day.id)
        return htmx.redirect(target) if htmx.is_htmx() else redirect(target)
    tests = [t for t in services.tests(db.session(), exam_day) if t.candidate_id == candidate.id]
    values = {name: getattr(candidate, name) or "" for name in COLUMNS.values() if name not in SUBJECT_FIELDS}
    values["birth_date"] = candidate.birth_date.isoformat() if candidate.birth_date else ""
    values["candidate_type"] = str(candidate.candidate_type)
    for i, t in enumerate(tests, start=1):
        values.update({f"code{i}": t.subject_code, f"kind{i}": t.price_kind, f"period{i}": t.period, f"ticket{i}": t.ticket})
    return htmx.render("odyssey/candidate.html", "odyssey/partials/candidate_form.html", day=exam_day, candidate=candidate,
                       values=values, errors={}, error=None, **_form_context())


def _form_context() -> dict[str, Any]:
    return {"subjects": list(services.subjects(db.session(), org_id()).values()), "offered_kinds": offered_kinds,
            **_ctx_common()}


# --------------------------------------------------------------------------- CSV import


@bp.post("/import/<int:day_id>")
def import_csv(day_id: int):
    exam_day = get_or_404(OdysseyExamDay, day_id)
    upload = request.files.get("file")
    data = upload.read(csv_import.MAX_BYTES + 1) if upload else b""
    version = _seen_version(exam_day)
    try:
        with db.transaction() as s:
            result = services.import_csv(s, org_id(), current_user.id, exam_day, data, upload.filename if upload else "",
                                         _now(), version)
    except services.ImportFailed as exc:
        db.session().refresh(exam_day)
        return _day_page(exam_day, 422, import_result=exc.result)
    except RuleError as exc:
        db.session().refresh(exam_day)
        return _day_page(exam_day, status_of(exc), error=exc.message)
    return _day_page(exam_day, 422 if result.errors else 200, import_result=result)


@bp.post("/delete-import/<int:day_id>")
def delete_import(day_id: int):
    return _act(day_id, lambda s, d, v: services.delete_import(s, org_id(), current_user.id, d, _now(), v))


# --------------------------------------------------------------------------- catalog (admin)


def _catalog(status=200, error=None, edited=None, preview=None, preview_code=None):
    s = db.session()
    with db.transaction() as unit:  # a write (once per organisation) in a unit of work, never in a read
        services.ensure_catalog(unit, org_id())
    rows = s.exec(scoped(OdysseySubject).order_by(OdysseySubject.family, OdysseySubject.code)).all()
    return htmx.render("odyssey/catalog.html", "odyssey/partials/catalog_table.html", status=status, rows=rows,
                       error=error, edited=edited, families=FAMILIES, preview=preview, preview_code=preview_code,
                       **_ctx_common())


@bp.get("/catalog")
def catalog():
    return _catalog()


CATALOG_AMOUNTS = ("price_general", "price_student", "price_student_or_teacher", "price_member",
                   "price_certificate_holder", "commission", "voucher_commission")


def _subject_input(form) -> tuple[str, str, str, dict[str, int | None], bool]:
    """(code, name, family, amounts, active) from a subject form, or a BadInput."""
    code = (form.get("code") or "").strip()
    name = (form.get("name") or "").strip()
    family = form.get("family")
    if not code or len(code) > 50:
        raise BadInput("invalid_field", Msg("科目コードを50文字以内で入力してください。", "Enter a code (50 characters at most)."), "code")
    if not name:
        raise BadInput("missing_field", Msg("科目名を入力してください。", "Enter a name."), "name")
    if family not in FAMILIES:
        raise BadInput("invalid_field", Msg("試験の系統(再受験ルールの区分)を選んでください。", "Choose a family."), "family")
    return code, name[:200], family, {k: int_field(form, k) for k in CATALOG_AMOUNTS}, form.get("active", "on") == "on"


def _apply_subject(row: OdysseySubject, name: str, family: str, amounts: dict, active: bool) -> None:
    row.name, row.family, row.active = name, family, active
    for k, v in amounts.items():
        setattr(row, k, v)


def _subject_edit(code: str, name: str, family: str, amounts: dict, active: bool) -> whatif.RulesEdit:
    """The what-if of a subject edit: Odyssey's catalog as it would be once saved."""

    def edited_catalog(s):
        edited = dict(services.subjects(s, org_id()))
        row = OdysseySubject(organization_id=org_id(), code=code, name=name, family=family)
        _apply_subject(row, name, family, amounts, active)
        if active:
            edited[code] = services.subject_of(row)
        else:
            edited.pop(code, None)
        return [subject.to_exam() for subject in edited.values()]

    return whatif.RulesEdit(exams=edited_catalog)


@bp.post("/catalog/preview")
def preview_subject():
    """The deadlines a subject edit would move (core what-if, with this catalog as edited)."""
    require_admin()
    try:
        edit = _subject_edit(*_subject_input(request.form))
    except RuleError as exc:
        return whatif.partial(errors={exc.field or "_": exc.message})
    return whatif.partial(whatif.preview(org_id(), services.PROVIDER_ID, edit))


@bp.post("/catalog")
def save_subject():
    """Add or edit a subject (admins). Amounts are integer yen or blank (unknown)."""
    require_admin()
    form = request.form
    try:
        code, name, family, amounts, active = _subject_input(form)
        shown = whatif.confirmed(org_id(), services.PROVIDER_ID, _subject_edit(code, name, family, amounts, active),
                                 whatif.form_fingerprint(form))
        with db.transaction() as s:
            row = s.exec(scoped(OdysseySubject).where(OdysseySubject.code == code)).first()
            before = audit.snapshot(row) if row else None
            with whatif.recomputing(s, org_id(), services.PROVIDER_ID, shown) as done:
                if row is None:
                    row = OdysseySubject(organization_id=org_id(), code=code, name=name, family=family)
                _apply_subject(row, name, family, amounts, active)
                s.add(row)
            s.flush()
            audit.record(s, org_id(), current_user.id, "update" if before else "create", "odyssey_subject", row.id,
                         before, {**audit.snapshot(row), **done.audit()})
    except whatif.PlanChanged as exc:
        return _catalog(422, exc.message, preview=exc.preview, preview_code=(form.get("code") or "").strip())
    except RuleError as exc:
        return _catalog(422, exc.message)
    return _catalog(edited=code)


# --------------------------------------------------------------------------- venue, contract year


def _venue_page(status=200, error=None):
    s = db.session()
    with db.transaction() as unit:
        v = services.venue(unit, org_id())
    fee = year = None
    if v.contract_start:
        year = contract.contract_year(v.contract_start, _now().date())
        this = services.tests_in(s, org_id(), year.count_from, year.count_to)
        previous = None
        if year.index:
            prev = contract.contract_year(v.contract_start, year.start - timedelta(days=1))
            previous = services.tests_in(s, org_id(), prev.count_from, prev.count_to)
        fee = (contract.annual_fee(v.contract_kind, year, this, previous), this, previous)
    logs = s.exec(scoped(OdysseyPurgeLog).order_by(OdysseyPurgeLog.ran_at.desc()).limit(24)).all()
    return htmx.render("odyssey/venue.html", "odyssey/partials/venue_body.html", status=status, venue=v, year=year, fee=fee,
                       kinds=contract.KINDS, logs=logs, error=error, **_ctx_common())


@bp.get("/venue")
def venue():
    return _venue_page()


@bp.post("/venue")
def save_venue():
    require_admin()
    form = request.form
    try:
        balance = int_field(form, "deposit_balance")
        proctors = int_field(form, "proctor_count")
        start = parse.date_value(form.get("contract_start"), "contract_start", required=False)
        kind = form.get("contract_kind", "standard")
        with db.transaction() as s:
            services.update_venue(s, org_id(), current_user.id, _now(), balance, proctors, start, kind)
    except RuleError as exc:
        return _venue_page(422, exc.message)
    return _venue_page()


# --------------------------------------------------------------------------- CLI


@bp.cli.command("purge")
def purge_command():
    """ODY-PII: delete application personal data one month after the exam (safe to repeat)."""
    with db.transaction() as s:
        logs = purge.purge(s, now_jst())
    for log in logs:
        click.echo(f"purged exam day {log.exam_day_id} ({log.exam_date.isoformat()}): {log.candidates_purged} candidate(s)")
    click.echo(f"{len(logs)} exam day(s) purged")


@bp.cli.command("advance-states")
def advance_states_command():
    """ODY-ST: move exam days to the state the clock puts them in (expired, exam day, results due)."""
    with db.transaction() as s:
        changed = services.advance_states(s, None, now_jst())
    click.echo(f"{changed} exam day(s) changed state")
