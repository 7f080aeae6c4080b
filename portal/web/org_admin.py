"""Organisation admin: users and roles, the providers the organisation uses, the audit log."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, request
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import select

from portal import audit, audit_view, db, exports, htmx, retention
from portal.auth import hash_password, require_admin
from portal.bookings import providers
from portal.inputs import MAX_PAGE, int_arg
from portal.models import AuditEvent, Booking, Candidate, RefundAccount, User
from portal.rules.parse import now_jst
from portal.orgs import enabled_provider_ids, set_provider_enabled
from portal.rules import Msg
from portal.scoping import org_id, scoped

bp = Blueprint("org_admin", __name__, url_prefix="/admin")
ROLES = ("admin", "staff")
AUDIT_PAGE = 50


@bp.before_request
def _admins_only():
    require_admin()


# --------------------------------------------------------------------------- users


def _users_page(errors=None, values=None, status=200):
    users = db.session().exec(scoped(User).order_by(User.email)).all()
    return htmx.render("admin/users.html", "admin/partials/users.html", status=status, users=users, roles=ROLES,
                       errors=errors or {}, values=values or {})


@bp.get("/users")
def users():
    return _users_page()


@bp.post("/users")
def create_user():
    form = request.form
    email = (form.get("email") or "").strip().lower()
    name = (form.get("name") or "").strip()
    password = form.get("password") or ""
    role = form.get("role")
    errors = {}
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        errors["email"] = Msg("メールアドレスの形式が正しくありません。", "Enter a valid email address.")
    elif db.session().exec(select(User).where(User.email == email)).first() is not None:
        errors["email"] = Msg("このメールアドレスは登録済みです。", "This email address is already registered.")
    if not name:
        errors["name"] = Msg("氏名を入力してください。", "Enter the name.")
    if len(password) < 10:
        errors["password"] = Msg("パスワードは10文字以上にしてください。", "Use at least 10 characters.")
    if role not in ROLES:
        errors["role"] = Msg("役割を選んでください。", "Choose a role.")
    if errors:
        return _users_page(errors, form, 422)
    with db.transaction() as s:
        user = User(organization_id=org_id(), email=email, name=name[:200], role=role, password_hash=hash_password(password))
        s.add(user)
        s.flush()
        audit.record(s, org_id(), current_user.id, "create", "user", user.id, None,
                     audit.snapshot(user, ("email", "name", "role", "active")))
    return _users_page()


@bp.post("/users/<int:user_id>")
def update_user(user_id: int):
    user = db.session().get(User, user_id)
    if user is None or user.organization_id != org_id():
        abort(404)
    role = request.form.get("role", user.role)
    active = request.form.get("active", "on" if user.active else "") in ("on", "true")
    if role not in ROLES:
        return _users_page({"_": Msg("役割を選んでください。", "Choose a role.")}, None, 422)
    if user.id == current_user.id and (role != "admin" or not active):
        return _users_page({"_": Msg("自分自身の管理者権限は外せません。", "You cannot remove your own admin rights.")}, None, 422)
    with db.transaction() as s:
        before = audit.snapshot(user, ("role", "active"))
        user.role, user.active = role, active
        s.add(user)
        audit.record(s, org_id(), current_user.id, "update", "user", user.id, before, audit.snapshot(user, ("role", "active")))
    return _users_page()


# --------------------------------------------------------------------------- providers


def _providers_page():
    enabled = set(enabled_provider_ids(db.session(), org_id()))
    return htmx.render("admin/providers.html", "admin/partials/providers.html", installed=providers().installed(),
                       enabled=enabled)


@bp.get("/providers")
def provider_list():
    return _providers_page()


@bp.post("/providers/<provider_id>/enabled")
def set_enabled(provider_id: str):
    if provider_id not in providers():
        abort(404)
    enabled = request.form.get("enabled") in ("on", "true", "1")
    with db.transaction() as s:
        before = set_provider_enabled(s, org_id(), provider_id, enabled)
        audit.record(s, org_id(), current_user.id, "update", "provider", None,
                     {"provider": provider_id, "enabled": before}, {"provider": provider_id, "enabled": enabled})
    return _providers_page()


# --------------------------------------------------------------------------- audit log


def audit_query(args):
    """The audit log's query under the filters of ``args`` (screen and export)."""
    query = scoped(AuditEvent)
    entity, action, user_filter = args.get("entity", ""), args.get("action", ""), args.get("user", "")
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if action:
        query = query.where(AuditEvent.action == action)
    user_id = int_arg(args, "user", None, minimum=1)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return query, {"entity": entity, "action": action, "user": user_filter}


def _vocabulary() -> audit_view.Vocabulary:
    return audit_view.vocabulary(current_app.extensions["exam_portal.pm"])


@bp.get("/audit")
def audit_log():
    args = request.args
    query, filters = audit_query(args)
    page = int_arg(args, "page", 1, minimum=1, maximum=MAX_PAGE)
    total = db.session().exec(select(func.count()).select_from(query.subquery())).one()
    events = db.session().exec(query.offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)).all()
    users = {u.id: u for u in db.session().exec(scoped(User)).all()}
    entities = db.session().exec(select(AuditEvent.entity).where(AuditEvent.organization_id == org_id()).distinct()).all()
    actions = db.session().exec(select(AuditEvent.action).where(AuditEvent.organization_id == org_id()).distinct()).all()
    vocab = _vocabulary()
    return htmx.render("admin/audit.html", "admin/partials/audit.html", events=audit_view.readable(list(events), vocab),
                       users=users, filters=filters, vocab=vocab,
                       entities=sorted(entities), actions=sorted(actions), page=page,
                       pages=max(1, -(-total // AUDIT_PAGE)), total=total)


def _audit_rows(query, vocab, users):
    for batch in exports.batched(exports.stream_query(query)):
        yield from audit_view.readable(batch, vocab)


AUDIT_COLUMNS = (
    exports.Column(_l("日時"), lambda r: r.event.at),
    exports.Column(_l("ユーザー"), lambda r: r.user),
    exports.Column(_l("操作"), lambda r: r.item.action),
    exports.Column(_l("対象"), lambda r: r.item.entity),
    exports.Column(_l("対象ID"), lambda r: r.event.entity_id),
    exports.Column(_l("変更内容"), lambda r: audit_view.summary_text(r.item)),
    exports.Column(_l("変更前(JSON)"), lambda r: json.dumps(r.event.before, ensure_ascii=False) if r.event.before else ""),
    exports.Column(_l("変更後(JSON)"), lambda r: json.dumps(r.event.after, ensure_ascii=False) if r.event.after else ""),
)


@dataclass(frozen=True)
class _AuditRow:
    item: audit_view.ReadableEvent
    user: str

    @property
    def event(self):
        return self.item.event


@bp.get("/audit/export.<fmt>")
def audit_export(fmt: str):
    query, _ = audit_query(request.args)
    users = {u.id: u.name for u in db.session().exec(scoped(User)).all()}
    system = gettext("システム")
    rows = (_AuditRow(item, users.get(item.event.user_id, system)) for item in _audit_rows(query, _vocabulary(), users))
    return exports.export_response("audit", fmt, AUDIT_COLUMNS, rows)


# --------------------------------------------------------------------------- personal data retention

RETENTION_PAGE = 50


@bp.get("/retention")
def retention_page():
    """What personal data will be purged when: each candidate's purge date (retention from
    their last exam) and the refund accounts still held (deleted when the refund is done)."""
    now = now_jst()
    items = retention.schedule(db.session(), org_id())
    page = int_arg(request.args, "page", 1, minimum=1, maximum=MAX_PAGE)
    pages = max(1, -(-len(items) // RETENTION_PAGE))
    shown = items[(page - 1) * RETENTION_PAGE:page * RETENTION_PAGE]
    refunds = db.session().exec(
        select(Booking, Candidate).join(RefundAccount, RefundAccount.booking_id == Booking.id)
        .join(Candidate, Candidate.id == Booking.candidate_id)
        .where(Booking.organization_id == org_id()).order_by(Booking.cancelled_at)).all()
    planned = retention.plugin_schedule(current_app.extensions["exam_portal.pm"], org_id(), now)
    return htmx.render("admin/retention.html", "admin/partials/retention.html", items=shown, total=len(items),
                       planned=planned,
                       due_now=sum(1 for i in items if i.purge_at <= now), refunds=refunds, page=page, pages=pages,
                       retention_days=retention.retention().days, now=now)
