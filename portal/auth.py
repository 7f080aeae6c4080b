"""Sign-in, sign-out and the rule that everything but sign-in and the public rules API
needs a signed-in user. Passwords are hashed with werkzeug (scrypt)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import bindparam
from sqlmodel import select
from werkzeug.security import generate_password_hash

from portal import db, htmx, login_limits, rule_context
from portal.models import Organization, User
from portal.redirects import safe_next

bp = Blueprint("auth", __name__)

#: Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"auth.login", "static", "web.plugin_static", "web.set_language", "web.health", "feeds.ics"}
PUBLIC_BLUEPRINTS = {"api"}


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """``current_user`` on a signed-in request: a read-only snapshot of the user's row, read
    as plain columns (building an ORM object for every request cost more than the query).
    Views that change a user load the :class:`~portal.models.User` row themselves."""

    id: int
    organization_id: int
    email: str
    name: str
    role: str
    active: bool = True

    # Flask-Login's protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        return str(self.id)


@cache
def _user_query():
    """The signed-in user's columns with the organisation's rules version: built once (every
    request of a signed-in user runs it; building the statement cost as much as running it)."""
    user, org = User.__table__.c, Organization.__table__.c
    return (select(user.id, user.organization_id, user.email, user.name, user.role, user.active, org.rules_version)
            .join_from(User.__table__, Organization.__table__, org.id == user.organization_id)
            .where(user.id == bindparam("user_id")))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def _load_user(user_id: str):
        """The signed-in user and, in the same statement, their organisation's rules
        version (so that cached rule contexts cost no further statement)."""
        if not user_id.isdigit() or len(user_id) > 18:
            return None
        session = db.session()
        row = session.connection().execute(_user_query(), {"user_id": int(user_id)}).first()
        if row is None or not row.active:
            return None
        *columns, version = row
        user = SignedInUser(*columns)
        rule_context.remember_version(session, user.organization_id, version)
        return user

    @app.before_request
    def _require_login():
        if request.endpoint is None:
            return None  # 404 follows
        if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if current_user.is_authenticated:
            return None
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if htmx.is_htmx():
            response = app.response_class(status=401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    app.register_blueprint(bp)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    email = ""
    status = 200
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        if login_limits.blocked(email):
            error, status = _("ログインの失敗が続いたため、しばらくログインできません。15分ほど待ってからお試しください。"), 429
        else:
            user = db.session().exec(select(User).where(User.email == email)).first()
            known = user is not None and user.active
            if login_limits.password_matches(user.password_hash if known else None, password):
                login_limits.record_success(email)
                login_user(user)
                return redirect(safe_next(request.args.get("next")))
            login_limits.record_failure(email)
            error, status = _("メールアドレスまたはパスワードが違います。"), 401
    return render_template("auth/login.html", error=error, email=email), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def require_admin() -> None:
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(403)
