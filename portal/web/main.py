"""Brand switcher, provider panels and the rule calculator."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user
from jinja2 import pass_context

from portal import db, htmx, labels, submissions
from portal.api import policy_facts
from portal.bookings import org_context
from portal.business_days import weekday_ja
from portal.i18n import SUPPORTED, request_language
from portal.orgs import enabled_provider_ids
from portal.facts import calculator_facts
from portal.rules import STORE_METHODS, DeadlineQuery, Msg, QuoteQuery, RetakeQuery, RuleError, jst
from portal.rules import parse
from portal.rules.parse import now_jst
from portal.web.forms import form_to_contract
from portal.providers import current as providers
from portal.redirects import safe_next

bp = Blueprint("web", __name__)




def register_template_helpers(app: Flask) -> None:
    # The filters run once per listed row: they read the language the context processor
    # put in the template context (request_language() where a template has no context,
    # as an imported macro).
    @app.template_filter("msg")
    @pass_context
    def _msg(context, value: Msg | str | None) -> str:
        if value is None:
            return ""
        return value.text(context.get("lang") or request_language()) if isinstance(value, Msg) else str(value)

    @app.template_filter("dt")
    @pass_context
    def _dt(context, value: datetime | date | None) -> str:
        return "" if value is None else format_moment(value, (context.get("lang") or request_language()) == "en")

    @app.template_filter("local_input")
    def _local_input(value: datetime | None) -> str:
        return jst(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    @app.template_filter("yen")
    def _yen(value: int | None) -> str:
        return "" if value is None else f"{value:,}円" if request_language() != "en" else f"¥{value:,}"

    @app.context_processor
    def _context() -> dict[str, Any]:
        lang, registry = request_language(), providers()

        def word(key: str, provider: str | None = None, in_lang: str | None = None) -> str:
            return registry.word(key, provider, in_lang or lang)

        return {"all_providers": visible_providers(), "lang": lang, "now": now_jst(),
                "deadline_label": word, "payment_label": word,
                "status_label": labels.status_label, "requirement_label": labels.requirement_label,
                "outcome_label": labels.outcome_label, "role_label": labels.role_label,
                "provider_name": lambda provider_id: registry.name(provider_id, lang),
                "booking_url": booking_url, "calculator_facts": calculator_facts,
                "store_methods": STORE_METHODS, "submission_key_field": submissions.key_field,
                "account_type_label": labels.account_type_label}


@lru_cache(maxsize=8192)
def format_moment(value: datetime | date, english: bool) -> str:
    """``2026-12-08(火) 10:00`` / ``Tue 2026-12-08 10:00`` (a date without the time).
    Remembered: a list shows the same few moments on many rows."""
    if isinstance(value, datetime):
        value = jst(value)
        if english:
            return value.strftime("%a %Y-%m-%d %H:%M")
        return f"{value:%Y-%m-%d}({weekday_ja(value.date())}) {value:%H:%M}"
    if english:
        return value.strftime("%a %Y-%m-%d")
    return f"{value:%Y-%m-%d}({weekday_ja(value)})"


def booking_url(booking) -> str:
    """Where a core booking is handled: the provider's own page if it has one."""
    endpoint = providers().info(booking.provider).booking_endpoint if booking.provider in providers() else None
    return url_for(endpoint or "bookings.detail", booking_id=booking.id)


def provider_name(provider_id: str) -> str:
    return providers().name(provider_id, request_language())


def visible_providers():
    """The providers the signed-in user's organisation uses (all when signed out)."""
    if not current_user.is_authenticated:
        return providers().all()
    if "visible_providers" not in g:
        g.visible_providers = [providers().info(p) for p in enabled_provider_ids(db.session(), current_user.organization_id)]
    return g.visible_providers


def hide_disabled_providers():
    """A provider the organisation disabled disappears from its pages (404), including a
    plugin's own pages (a plugin blueprint is named after its provider id). A request for no
    provider's page asks nothing (the signed-in user is not even loaded for it)."""
    if request.blueprint in ("api", "admin", "org_admin"):
        return None
    provider_id = (request.view_args or {}).get("provider_id")
    if provider_id is None and request.blueprint in providers():
        provider_id = request.blueprint
    if provider_id is None or provider_id not in providers() or not current_user.is_authenticated:
        return None
    if provider_id not in {p.id for p in visible_providers()}:
        abort(404)
    return None


@bp.get("/plugins/<provider_id>/static/<path:filename>", endpoint="plugin_static")
def plugin_static(provider_id: str, filename: str):
    """A plugin's own static files (its package's ``static/`` folder)."""
    from flask import send_from_directory
    folder = providers().static_folder(provider_id) if provider_id in providers() else None
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename)


@bp.get("/health")
def health():
    return {"status": "ok"}


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in SUPPORTED:
        session["lang"] = lang
    target = safe_next(request.form.get("next"))
    if htmx.is_htmx():
        return htmx.redirect(target)
    return redirect(target)


@bp.get("/")
def home():
    return redirect(url_for("dashboard.dashboard"))


@bp.get("/providers/<provider_id>")
def provider(provider_id: str):
    if provider_id not in providers():
        abort(404)
    info = providers().info(provider_id)
    ctx = org_context(db.session(), current_user.organization_id, provider_id)
    return htmx.render("providers/page.html", "providers/partials/area.html", info=info, ctx=ctx,
                       values=_default_values(info), result=None)


def _default_values(info) -> dict[str, Any]:
    now = now_jst()
    return {"exam": info.exams[0].code if info.exams else "", "at": now.strftime("%Y-%m-%dT%H:%M"),
            "payment_method": info.payment_methods[0] if info.payment_methods else ""}


@bp.post("/providers/<provider_id>/calculate")
def calculate(provider_id: str):
    """The calculator: the provider's declared facts → its deadlines, policy, quote and
    retake answer, each shown with its rule IDs, or with what it still needs."""
    if provider_id not in providers():
        abort(404)
    ctx = org_context(db.session(), current_user.organization_id, provider_id)
    result: dict[str, Any] = {"error": None, "deadlines": [], "policy": None, "policy_error": None,
                              "quote": None, "quote_error": None, "retake": None, "retake_error": None}
    try:
        body = form_to_contract(request.form, calculator_facts(ctx.provider))
        facts = policy_facts(body)
        if facts.exam_start is not None:
            result["deadlines"] = providers().deadlines(ctx, DeadlineQuery(facts.exam, facts.exam_start, body))
            result["policy"], result["policy_error"] = _answer(lambda: providers().policy(ctx, facts))
        result["quote"], result["quote_error"] = _answer(lambda: providers().quote(ctx, QuoteQuery(body)))
        if facts.exam is not None:
            query = RetakeQuery(facts.exam, parse.attempts_list(body.get("attempts", [])), facts.at)
            result["retake"], result["retake_error"] = _answer(lambda: providers().retake(ctx, query))
    except RuleError as exc:
        result["error"] = exc
    response = htmx.render("providers/page.html", "rules/partials/calculator_result.html",
                           info=ctx.provider, ctx=ctx, result=result, values=request.form)
    return response


def _answer(ask):
    """One section of the calculator: the answer, or the error saying what it still needs
    (a question the provider does not answer is left out)."""
    try:
        return ask(), None
    except RuleError as exc:
        return None, (None if exc.code == "not_offered" else exc)
