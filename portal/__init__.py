"""exam-portal: one place for the rules of every exam brand an operator runs."""
from __future__ import annotations

import copy
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, make_response, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from flask_babel import Babel
from flask_login import LoginManager
from jinja2 import ChoiceLoader, FileSystemLoader

from portal import crypto, db, headers, htmx, inputs, login_limits
from portal.csrf import PortalCSRFProtect
from portal.api import API_PREFIX
from portal.i18n import DEFAULT, SUPPORTED, UI_LANGUAGE, TemplateTranslations, babel_locale
from portal.plugins import enabled_names, make_plugin_manager
from portal.providers import PluginFailure, Providers

ROOT = Path(__file__).resolve().parent.parent
csrf = PortalCSRFProtect()
login_manager = LoginManager()
babel = Babel()


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class _KeyCachingSigner(TimestampSigner):
    """itsdangerous' signer, remembering the key it derives (an HMAC of the secret key and
    the salt, which itsdangerous computes again on every signature it makes or checks)."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key=None) -> bytes:
        memo_key = (secret_key if secret_key is not None else self.secret_keys[-1], self.salt,
                    self.key_derivation, self.digest_method)
        derived = self._derived.get(memo_key)
        if derived is None:
            derived = self._derived[memo_key] = super().derive_key(secret_key)
        return derived


@lru_cache(maxsize=4096)
def _checked_cookie(serializer: URLSafeTimedSerializer, value: str) -> tuple[int, Any, bool]:
    """A session cookie's signing time, its payload and whether the payload is flat (no
    value a request could change in place), once its signature is checked (a bad one raises
    and is not remembered). Remembered per serializer (one set of keys): a browser sends the
    same cookie with every request until its session changes, and checking and decoding it
    again cost as much as the rest of a small request. The age is checked by the caller."""
    payload, signed_at = serializer.loads(value, return_timestamp=True)
    flat = isinstance(payload, dict) and all(isinstance(v, (str, int, float, bool, type(None))) for v in payload.values())
    return int(signed_at.timestamp()), payload, flat


class PortalSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions, except that the public rules API reads no session cookie:
    its requests get an empty throwaway session that is never saved (no Set-Cookie, no
    ``Vary: Cookie``).

    The signing serializer is built once per set of keys rather than for every request
    (Flask builds a new one each time, which costs as much as checking the signature)."""

    _serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)  # the current key last
        found = self._serializers.get(keys)
        if found is None:
            found = self._serializers[keys] = URLSafeTimedSerializer(
                list(keys), salt=self.salt, serializer=self.serializer, signer=_KeyCachingSigner,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
        return found

    def open_session(self, app, request):
        if request.path.startswith(API_PREFIX + "/"):
            return self.null_session_class()
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app)) if serializer is not None else None
        if not value:
            return super().open_session(app, request)
        try:
            signed_at, payload, flat = _checked_cookie(serializer, value)
        except BadSignature:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        if not 0 <= int(time.time()) - signed_at <= max_age:  # expired, as itsdangerous checks the age
            return self.session_class()
        return self.session_class(payload if flat else copy.deepcopy(payload))  # never the remembered one

    def save_session(self, app, session, response):
        if self.is_null_session(session):
            return None
        if not session.modified and not self.should_set_cookie(app, session):
            # Flask's answer for an unchanged session, without first reading the cookie's
            # seven settings it would not use.
            if session.accessed:
                response.vary.add("Cookie")
            return None
        return super().save_session(app, session, response)


#: The largest file a form may upload (the CSV import, the bulk application form).
UPLOAD_MAX_BYTES = 2 * 1024 * 1024


def _too_large():
    """413 in words: the limit, and that nothing changed (htmx shows it in the error box)."""
    if htmx.is_htmx():
        return htmx.vary(make_response(render_template("errors/partials/too_large.html"), 413))
    return htmx.vary(make_response(render_template("errors/too_large.html"), 413))


class PortalFlask(Flask):
    """Flask, remembering which functions are coroutines: Flask asks ``ensure_sync`` for
    every before/after/teardown function and view of every request, and each answer costs
    an ``inspect`` call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synced: dict = {}

    def ensure_sync(self, func):
        synced = self._synced.get(func)
        if synced is None:
            synced = self._synced[func] = super().ensure_sync(func)
        return synced


def create_app(test_config: Mapping[str, Any] | None = None, plugins: list[object] | None = None) -> Flask:
    """The app factory. ``test_config`` may set ``DATABASE_URL``, ``TESTING`` and
    ``EXAM_PORTAL_PLUGINS`` (entry-point names to load, a list or a comma-separated string;
    default: the environment variable, else all); ``plugins`` registers extra plugin objects
    (tests, embedding applications)."""
    app = PortalFlask(__name__, instance_relative_config=True, template_folder=str(ROOT / "templates"),
                static_folder="static")
    inputs.install_converter(app)  # the bounded <int:…> converter must be in place before any route
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.session_interface = PortalSessionInterface()
    app.config.update(
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'portal.db'}"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE=DEFAULT,
        WTF_CSRF_TIME_LIMIT=None,
        PERSONAL_DATA_RETENTION_DAYS=int(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", "365")),
        UPLOAD_MAX_BYTES=UPLOAD_MAX_BYTES,
        # The largest upload plus room for the form's other fields; a larger request is a 413
        # before its body is read.
        MAX_CONTENT_LENGTH=UPLOAD_MAX_BYTES + 256 * 1024,
        **{key: os.environ[key] for key in ("RATELIMIT_STORAGE_URI",) if os.environ.get(key)},
    )
    headers.configure(app)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    if not app.config.get("DATA_ENCRYPTION_KEY"):
        app.config["DATA_ENCRYPTION_KEY"] = crypto.data_key(app.instance_path)

    app.extensions["exam_portal.engine"] = db.make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(db.close_session)

    selection = app.config.get("EXAM_PORTAL_PLUGINS")  # else the environment variable
    if isinstance(selection, str):
        selection = enabled_names(selection) or ()
    pm = make_plugin_manager(only=selection, extra=plugins or [])
    providers = Providers(pm)
    app.extensions["exam_portal.pm"] = pm
    app.extensions["exam_portal.providers"] = providers
    # Plugin folders first, as datasette does: a plugin may override a core template.
    app.jinja_loader = ChoiceLoader([
        *(FileSystemLoader(str(folder)) for folder in providers.template_folders()),
        FileSystemLoader(str(ROOT / "templates")),
    ])

    # The core's catalog is the default domain; each plugin package translates in its own.
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    csrf.init_app(app)
    headers.init_app(app)
    login_limits.init_app(app)
    from portal.reminders import configure_mail
    configure_mail(app)
    babel.init_app(app, locale_selector=babel_locale)
    TemplateTranslations(providers.plugin_folders()).install(app.jinja_env)
    from portal import auth
    auth.init_app(app, login_manager)
    inputs.init_app(app)

    from portal import api, cli, web
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    web.init_app(app)
    for blueprint in providers.blueprints:
        app.register_blueprint(blueprint)
    cli.init_app(app)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(API_PREFIX + "/"):
            return api.http_error(exc)  # the contract's error body, also for routing errors
        if exc.code == 413:
            return _too_large()
        return exc

    @app.template_global()
    def upload_limit() -> str:
        """The upload limit as people read it, for the upload forms and the 413 page."""
        return f"{app.config['UPLOAD_MAX_BYTES'] / (1024 * 1024):g}MB"

    @app.errorhandler(PluginFailure)
    def _plugin_failure(exc: PluginFailure):
        if request.path.startswith(API_PREFIX + "/"):
            return api.rule_error(exc)
        return _plugin_error_page(exc.provider, exc.plugin)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        """An exception in a plugin's own pages: an error page naming the provider."""
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        blueprint = request.blueprint
        if blueprint in providers and not request.path.startswith(API_PREFIX + "/"):
            label = providers.record_of(blueprint).label
            app.logger.error("plugin %s failed in %s", label, request.endpoint, exc_info=exc)
            return _plugin_error_page(blueprint, label)
        raise exc

    def _plugin_error_page(provider_id: str, plugin: str):
        from flask import render_template
        info = providers.info(provider_id)
        return render_template("errors/plugin.html", info=info, plugin=plugin), 502

    @app.before_request
    def _ui_language():
        if request.blueprint == "api":
            return  # the rules API reads no session cookie
        chosen = session.get("lang")
        request.environ[UI_LANGUAGE] = chosen if chosen in SUPPORTED else DEFAULT

    return app
