"""Organisation admin: closure days per provider (seeded from the plugin defaults)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlmodel import select

from portal import audit, db, htmx
from portal.auth import require_admin
from portal.bookings import catalog, providers, recompute_deadlines, settings
from portal.models import CatalogEntry, ClosureDay, ProviderSettingValue
from portal.rules import BadInput, Msg, RuleError
from portal.rules import parse
from portal.scoping import get_or_404, org_id, scoped

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    require_admin()


def _render(provider_id: str, errors=None, values=None, status=200):
    info = providers().info(provider_id)
    rows = db.session().exec(scoped(ClosureDay).where(ClosureDay.provider == provider_id)
                             .order_by(ClosureDay.yearly.desc(), ClosureDay.start_date)).all()
    current = {**{s.key: s.default for s in info.settings}, **settings(db.session(), org_id(), provider_id)}
    return htmx.render("admin/closures.html", "admin/partials/closures.html", status=status, info=info, rows=rows,
                       errors=errors or {}, values=values or {}, current=current)


@bp.get("/providers/<provider_id>/closures")
def closures(provider_id: str):
    if provider_id not in providers():
        abort(404)
    return _render(provider_id)


@bp.post("/providers/<provider_id>/closures")
def add_closure(provider_id: str):
    if provider_id not in providers():
        abort(404)
    form = request.form
    try:
        start = parse.date_value(form.get("start_date"), "start_date")
        end = parse.date_value(form.get("end_date") or form.get("start_date"), "end_date")
        yearly = form.get("yearly") in ("on", "true")
        if not yearly and end < start:
            raise BadInput("invalid_field", Msg("終了日は開始日以降にしてください。", "The end date must not be before the start."), "end_date")
        label = (form.get("label") or "").strip()
        if not label:
            raise BadInput("missing_field", Msg("名称を入力してください。", "Enter a label."), "label")
        with db.transaction() as s:
            row = ClosureDay(organization_id=org_id(), provider=provider_id, start_date=start, end_date=end,
                             yearly=yearly, label_ja=label[:200], label_en=label[:200])
            s.add(row)
            s.flush()
            audit.record(s, org_id(), current_user.id, "create", "closure_day", row.id, None, audit.snapshot(row))
            recompute_deadlines(s, org_id(), provider_id)
    except RuleError as exc:
        return _render(provider_id, {exc.field or "_": exc.message}, form, 422)
    return _render(provider_id)


@bp.post("/closures/<int:closure_id>/delete")
def delete_closure(closure_id: int):
    row = get_or_404(ClosureDay, closure_id)
    provider_id = row.provider
    with db.transaction() as s:
        audit.record(s, org_id(), current_user.id, "delete", "closure_day", row.id, audit.snapshot(row), None)
        s.delete(row)
        s.flush()
        recompute_deadlines(s, org_id(), provider_id)
    return _render(provider_id)


@bp.post("/providers/<provider_id>/settings")
def save_settings(provider_id: str):
    """The provider's per-organisation switches (e.g. a reading the rulebook leaves open)."""
    if provider_id not in providers():
        abort(404)
    info = providers().info(provider_id)
    errors = {}
    values = {}
    for setting in info.settings:
        raw = request.form.get(setting.key)
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
    if errors:
        return _render(provider_id, errors, request.form, 422)
    with db.transaction() as s:
        rows = {r.key: r for r in s.exec(select(ProviderSettingValue).where(
            ProviderSettingValue.organization_id == org_id(), ProviderSettingValue.provider == provider_id)).all()}
        before = {k: r.value for k, r in rows.items() if k in values}
        for key, value in values.items():
            row = rows.get(key) or ProviderSettingValue(organization_id=org_id(), provider=provider_id, key=key)
            row.value = value
            s.add(row)
        s.flush()
        audit.record(s, org_id(), current_user.id, "update", "provider_setting", None,
                     {"provider": provider_id, **before}, {"provider": provider_id, **values})
        recompute_deadlines(s, org_id(), provider_id)
    return _render(provider_id)


# --------------------------------------------------------------------------- catalog


def _catalog_page(provider_id: str, errors=None, values=None, status=200):
    info = providers().info(provider_id)
    exams = catalog(db.session(), org_id(), provider_id)
    return htmx.render("admin/catalog.html", "admin/partials/catalog.html", status=status, info=info, exams=exams,
                       errors=errors or {}, values=values or {})


@bp.get("/providers/<provider_id>/catalog")
def catalog_page(provider_id: str):
    if provider_id not in providers():
        abort(404)
    return _catalog_page(provider_id)


@bp.post("/providers/<provider_id>/catalog")
def save_catalog_entry(provider_id: str):
    """Edit an exam's name, price or duration, or add an exam; stored deadlines follow."""
    if provider_id not in providers() or providers().info(provider_id).catalog_endpoint:
        abort(404)  # unknown, or a provider whose catalog is edited on its own page
    form = request.form
    errors = {}
    code = (form.get("code") or "").strip()
    name = (form.get("name") or "").strip()
    if not code or len(code) > 50:
        errors["code"] = Msg("試験コードを入力してください(50文字以内)。", "Enter an exam code (50 characters at most).")
    if not name:
        errors["name"] = Msg("試験名を入力してください。", "Enter the exam name.")
    numbers = {}
    for key in ("price", "duration_minutes"):
        raw = (form.get(key) or "").replace(",", "").strip()
        if raw and (not (raw.isascii() and raw.isdigit()) or int(raw) > 10_000_000):
            errors[key] = Msg("0以上の整数で入力してください。", "Enter a whole number of 0 or more.")
        numbers[key] = int(raw) if raw.isascii() and raw.isdigit() else None
    if errors:
        return _catalog_page(provider_id, errors, form, 422)
    with db.transaction() as s:
        row = s.exec(select(CatalogEntry).where(CatalogEntry.organization_id == org_id(), CatalogEntry.provider == provider_id,
                                                CatalogEntry.code == code)).first()
        before = audit.snapshot(row) if row else None
        row = row or CatalogEntry(organization_id=org_id(), provider=provider_id, code=code, name=name)
        row.name, row.price, row.duration_minutes = name[:200], numbers["price"], numbers["duration_minutes"]
        s.add(row)
        s.flush()
        audit.record(s, org_id(), current_user.id, "update" if before else "create", "catalog_entry", row.id, before,
                     audit.snapshot(row))
        recompute_deadlines(s, org_id(), provider_id)
    return _catalog_page(provider_id)
