"""Organisation admin: closure days, settings and catalog per provider.

Every edit that can move stored deadlines is previewed before it is saved (a live htmx
partial, :mod:`portal.whatif`); the save carries the fingerprint of the plan the admin saw
and applies exactly that plan, or shows the new one when it changed meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlmodel import select

from portal import audit, db, htmx, whatif
from portal.auth import require_admin
from portal.bookings import catalog, providers, settings
from portal.models import CatalogEntry, ClosureDay, ProviderSettingValue
from portal.rules import BadInput, ClosureRule, Msg, RuleError
from portal.rules import parse
from portal.scoping import get_or_404, org_id, scoped

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    require_admin()


def _known(provider_id: str) -> None:
    if provider_id not in providers():
        abort(404)


# --------------------------------------------------------------------------- form values


@dataclass(frozen=True)
class ClosureInput:
    start: date
    end: date
    yearly: bool
    label: str

    def rule(self) -> ClosureRule:
        """As :func:`portal.bookings.closure_rule` will read the saved row."""
        return ClosureRule(self.start, self.end, Msg(self.label, self.label), self.yearly)


def closure_input(form: Mapping[str, str]) -> ClosureInput:
    start = parse.date_value(form.get("start_date"), "start_date")
    end = parse.date_value(form.get("end_date") or form.get("start_date"), "end_date")
    yearly = form.get("yearly") in ("on", "true")
    if not yearly and end < start:
        raise BadInput("invalid_field", Msg("終了日は開始日以降にしてください。", "The end date must not be before the start."), "end_date")
    label = (form.get("label") or "").strip()[:200]
    if not label:
        raise BadInput("missing_field", Msg("名称を入力してください。", "Enter a label."), "label")
    return ClosureInput(start, end, yearly, label)


def settings_input(provider_id: str, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Msg]]:
    """The provider's switches from the form: (values, errors by field)."""
    values: dict[str, Any] = {}
    errors: dict[str, Msg] = {}
    for setting in providers().info(provider_id).settings:
        raw = form.get(setting.key)
        if isinstance(setting.default, bool):
            values[setting.key] = raw in ("on", "true")
        elif isinstance(setting.default, int):
            text_value = (raw or "").strip()
            if not (text_value.isascii() and text_value.isdigit()) or int(text_value) > 1_000_000:
                errors[setting.key] = Msg("0以上の整数を入力してください。", "Enter a whole number of 0 or more.")
            else:
                values[setting.key] = int(text_value)
        else:
            values[setting.key] = (raw or "").strip()
    return values, errors


def catalog_input(provider_id: str, form: Mapping[str, str]) -> tuple[CatalogEntry | None, dict[str, Msg]]:
    """An edit of the core catalog from the form: (an unsaved entry, errors by field)."""
    errors: dict[str, Msg] = {}
    code = (form.get("code") or "").strip()
    name = (form.get("name") or "").strip()
    if not code or len(code) > 50:
        errors["code"] = Msg("試験コードを入力してください(50文字以内)。", "Enter an exam code (50 characters at most).")
    if not name:
        errors["name"] = Msg("試験名を入力してください。", "Enter the exam name.")
    numbers: dict[str, int | None] = {}
    for key in ("price", "duration_minutes"):
        raw = (form.get(key) or "").replace(",", "").strip()
        if raw and (not (raw.isascii() and raw.isdigit()) or int(raw) > 10_000_000):
            errors[key] = Msg("0以上の整数で入力してください。", "Enter a whole number of 0 or more.")
        numbers[key] = int(raw) if raw.isascii() and raw.isdigit() else None
    if errors:
        return None, errors
    return CatalogEntry(organization_id=org_id(), provider=provider_id, code=code, name=name[:200],
                        price=numbers["price"], duration_minutes=numbers["duration_minutes"]), errors


# --------------------------------------------------------------------------- closure days and settings


def _render(provider_id: str, errors=None, values=None, status=200, previews=None, notices=None, edited_settings=None):
    """``edited_settings``: the settings form as the admin sent it (shown again with its preview)."""
    info = providers().info(provider_id)
    rows = db.session().exec(scoped(ClosureDay).where(ClosureDay.provider == provider_id)
                             .order_by(ClosureDay.yearly.desc(), ClosureDay.start_date)).all()
    current = {**{s.key: s.default for s in info.settings}, **settings(db.session(), org_id(), provider_id),
               **(edited_settings or {})}
    return htmx.render("admin/closures.html", "admin/partials/closures.html", status=status, info=info, rows=rows,
                       errors=errors or {}, values=values or {}, current=current, previews=previews or {},
                       notices=notices or {})


def _plan_changed(provider_id: str, exc: whatif.PlanChanged, form, slot: str, edited_settings=None):
    """The save computed another plan than the one shown: show that one in ``slot``."""
    return _render(provider_id, None, form, 422, previews={slot: exc.preview}, notices={slot: whatif.Notice(exc.message)},
                   edited_settings=edited_settings)


@bp.get("/providers/<provider_id>/closures")
def closures(provider_id: str):
    _known(provider_id)
    return _render(provider_id)


@bp.post("/providers/<provider_id>/closures/preview")
def preview_closure(provider_id: str):
    """Live preview of adding the closure the form describes."""
    _known(provider_id)
    try:
        closure = closure_input(request.form)
    except RuleError as exc:
        return whatif.partial(errors={exc.field or "_": exc.message})
    return whatif.partial(whatif.preview(org_id(), provider_id, whatif.RulesEdit(add_closures=(closure.rule(),))))


@bp.post("/providers/<provider_id>/closures")
def add_closure(provider_id: str):
    _known(provider_id)
    form = request.form
    try:
        closure = closure_input(form)
        shown = whatif.confirmed(org_id(), provider_id, whatif.RulesEdit(add_closures=(closure.rule(),)),
                                 whatif.form_fingerprint(form))
        with db.transaction() as s:
            with whatif.recomputing(s, org_id(), provider_id, shown) as done:
                row = ClosureDay(organization_id=org_id(), provider=provider_id, start_date=closure.start,
                                 end_date=closure.end, yearly=closure.yearly, label_ja=closure.label,
                                 label_en=closure.label)
                s.add(row)
            audit.record(s, org_id(), current_user.id, "create", "closure_day", row.id, None,
                         {**audit.snapshot(row), **done.audit()})
    except whatif.PlanChanged as exc:
        return _plan_changed(provider_id, exc, form, "add")
    except RuleError as exc:
        return _render(provider_id, {exc.field or "_": exc.message}, form, 422)
    return _render(provider_id, notices={"add": whatif.saved_notice(done)})


@bp.post("/closures/<int:closure_id>/delete")
def delete_closure(closure_id: int):
    """Two steps from the same button: the first post (an empty ``plan``) shows what the
    removal would move; the confirmation carries that plan's fingerprint."""
    row = get_or_404(ClosureDay, closure_id)
    provider_id = row.provider
    try:
        shown = whatif.confirmed(org_id(), provider_id, whatif.RulesEdit(remove_closures=frozenset({closure_id})),
                                 whatif.form_fingerprint(request.form))
        with db.transaction() as s:
            before = audit.snapshot(row)
            with whatif.recomputing(s, org_id(), provider_id, shown) as done:
                s.delete(row)
            audit.record(s, org_id(), current_user.id, "delete", "closure_day", closure_id, before, done.audit())
    except whatif.PlanChanged as exc:
        return _plan_changed(provider_id, exc, None, f"delete-{closure_id}")
    return _render(provider_id, notices={"delete": whatif.saved_notice(done)})


@bp.post("/providers/<provider_id>/settings/preview")
def preview_settings(provider_id: str):
    _known(provider_id)
    values, errors = settings_input(provider_id, request.form)
    if errors:
        return whatif.partial(errors=errors)
    return whatif.partial(whatif.preview(org_id(), provider_id, whatif.RulesEdit(settings=values)))


@bp.post("/providers/<provider_id>/settings")
def save_settings(provider_id: str):
    """The provider's per-organisation switches (e.g. a reading the rulebook leaves open)."""
    _known(provider_id)
    values, errors = settings_input(provider_id, request.form)
    if errors:
        return _render(provider_id, errors, request.form, 422)
    try:
        shown = whatif.confirmed(org_id(), provider_id, whatif.RulesEdit(settings=values),
                                 whatif.form_fingerprint(request.form))
        with db.transaction() as s:
            rows = {r.key: r for r in s.exec(select(ProviderSettingValue).where(
                ProviderSettingValue.organization_id == org_id(), ProviderSettingValue.provider == provider_id)).all()}
            before = {k: r.value for k, r in rows.items() if k in values}
            with whatif.recomputing(s, org_id(), provider_id, shown) as done:
                for key, value in values.items():
                    row = rows.get(key) or ProviderSettingValue(organization_id=org_id(), provider=provider_id, key=key)
                    row.value = value
                    s.add(row)
            audit.record(s, org_id(), current_user.id, "update", "provider_setting", None,
                         {"provider": provider_id, **before}, {"provider": provider_id, **values, **done.audit()})
    except whatif.PlanChanged as exc:
        return _plan_changed(provider_id, exc, None, "settings", edited_settings=values)
    return _render(provider_id, notices={"settings": whatif.saved_notice(done)})


# --------------------------------------------------------------------------- catalog


def _catalog_page(provider_id: str, errors=None, values=None, status=200, preview=None, notice=None):
    info = providers().info(provider_id)
    exams = catalog(db.session(), org_id(), provider_id)
    return htmx.render("admin/catalog.html", "admin/partials/catalog.html", status=status, info=info, exams=exams,
                       errors=errors or {}, values=values or {}, preview=preview, notice=notice)


def _core_catalog(provider_id: str) -> None:
    if provider_id not in providers() or providers().info(provider_id).catalog_endpoint:
        abort(404)  # unknown, or a provider whose catalog is edited on its own page


@bp.get("/providers/<provider_id>/catalog")
def catalog_page(provider_id: str):
    _known(provider_id)
    return _catalog_page(provider_id)


@bp.post("/providers/<provider_id>/catalog/preview")
def preview_catalog_entry(provider_id: str):
    _core_catalog(provider_id)
    entry, errors = catalog_input(provider_id, request.form)
    if errors:
        return whatif.partial(errors=errors)
    return whatif.partial(whatif.preview(org_id(), provider_id, whatif.RulesEdit(catalog_entry=entry)))


@bp.post("/providers/<provider_id>/catalog")
def save_catalog_entry(provider_id: str):
    """Edit an exam's name, price or duration, or add an exam; stored deadlines follow."""
    _core_catalog(provider_id)
    form = request.form
    entry, errors = catalog_input(provider_id, form)
    if errors:
        return _catalog_page(provider_id, errors, form, 422)
    try:
        shown = whatif.confirmed(org_id(), provider_id, whatif.RulesEdit(catalog_entry=entry),
                                 whatif.form_fingerprint(form))
        with db.transaction() as s:
            row = s.exec(select(CatalogEntry).where(CatalogEntry.organization_id == org_id(), CatalogEntry.provider == provider_id,
                                                    CatalogEntry.code == entry.code)).first()
            before = audit.snapshot(row) if row else None
            with whatif.recomputing(s, org_id(), provider_id, shown) as done:
                row = row or entry
                row.name, row.price, row.duration_minutes = entry.name, entry.price, entry.duration_minutes
                s.add(row)
            audit.record(s, org_id(), current_user.id, "update" if before else "create", "catalog_entry", row.id, before,
                         {**audit.snapshot(row), **done.audit()})
    except whatif.PlanChanged as exc:
        return _catalog_page(provider_id, None, form, 422, preview=exc.preview, notice=whatif.Notice(exc.message))
    return _catalog_page(provider_id, notice=whatif.saved_notice(done))
