"""The JSON rules API (shared/api-contract.md): stateless calculators over public rules.

No login, no stored data, no session cookie read; exempt from CSRF. Errors use the
contract's body ``{"error": {"code", "message", "field"}}`` and never a 500 for any input.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from portal.i18n import request_language
from portal.rules import BadInput, DeadlineQuery, Msg, PolicyFacts, QuoteQuery, RetakeQuery, RuleError
from portal.rules.errors import UnknownExam
from portal.rules import parse
from portal.serialize import cancel_json, change_json, deadline_json, quote_json, retake_json
from portal.providers import current as providers

API_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=API_PREFIX)




def _body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, dict):
        raise BadInput("invalid_json", Msg("本文はJSONオブジェクトである必要があります。", "The body must be a JSON object."), None)
    return data


def _named_exams(ctx, body: dict[str, Any], check_code: bool = True) -> None:
    """The contract's 404 for an unknown exam, the same on every endpoint of every provider:
    an ``exam`` the request names (top level or in ``items``) must be a code the provider
    knows — ``""`` and ``null`` name no exam, so they are unknown too. Leaving ``exam`` out
    is another matter: the endpoint answers 400 where it needs one.
    ``check_code=False`` leaves a non-empty code to the provider (a provider's deadlines and
    retake may accept family codes besides the catalog's, and answer 404 for the rest)."""
    named = [("exam", body["exam"])] if "exam" in body else []
    items = body.get("items")
    if isinstance(items, list):
        named += [(f"items[{i}].exam", item["exam"]) for i, item in enumerate(items)
                  if isinstance(item, dict) and "exam" in item]
    for field, code in named:
        if not isinstance(code, str) or not code.strip():
            raise UnknownExam(code if isinstance(code, str) else None, field)
        if check_code:
            ctx.exam(code, field)


def _error(code: str, message: str, field: str | None, status: int):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


@bp.errorhandler(RuleError)
def rule_error(exc: RuleError):
    return _error(exc.code, exc.message.text(request_language()), exc.field, exc.status)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return _error((exc.name or "error").lower().replace(" ", "_"), exc.description or exc.name, None, exc.code or 500)


@bp.get("/providers")
def list_providers():
    lang = request_language()
    return jsonify({"providers": [
        {"id": info.id, "name": info.name.text(lang), "exams": [{"code": e.code, "name": e.name} for e in info.exams]}
        for info in providers().all()
    ]})


@bp.post("/providers/<provider_id>/deadlines")
def deadlines(provider_id: str):
    ctx = providers().default_context(provider_id)
    body = _body()
    _named_exams(ctx, body, check_code=False)  # the provider knows its codes (families, say)
    query = DeadlineQuery(
        exam=parse.string_value(body.get("exam"), "exam", required=False),
        exam_start=parse.datetime_value(body.get("exam_start"), "exam_start"),
        raw=body,
    )
    lang = request_language()
    return jsonify({"deadlines": [deadline_json(d, lang) for d in providers().deadlines(ctx, query)]})


@bp.post("/providers/<provider_id>/retake")
def retake(provider_id: str):
    ctx = providers().default_context(provider_id)
    body = _body()
    _named_exams(ctx, body, check_code=False)
    query = RetakeQuery(
        exam=parse.string_value(body.get("exam"), "exam"),
        attempts=parse.attempts_list(body.get("attempts")),
        at=parse.datetime_value(body.get("at"), "at", required=False) or parse.now_jst(),
    )
    return jsonify(retake_json(providers().retake(ctx, query), request_language()))


@bp.post("/providers/<provider_id>/quote")
def quote(provider_id: str):
    ctx = providers().default_context(provider_id)
    body = _body()
    _named_exams(ctx, body)
    return jsonify(quote_json(providers().quote(ctx, QuoteQuery(body)), request_language()))


def policy_facts(body: dict[str, Any]) -> PolicyFacts:
    """The contract's policy request as facts (shared by the API and the calculator)."""
    return PolicyFacts(
        at=parse.datetime_value(body.get("at"), "at", required=False) or parse.now_jst(),
        exam=parse.string_value(body.get("exam"), "exam", required=False),
        exam_start=parse.datetime_value(body.get("exam_start"), "exam_start", required=False),
        booked_at=parse.datetime_value(body.get("booked_at"), "booked_at", required=False),
        first_booked_at=parse.datetime_value(body.get("first_booked_at"), "first_booked_at", required=False),
        payment=parse.payment_value(body.get("payment")),
        voucher_issued_on=parse.date_value(body.get("voucher_issued_on"), "voucher_issued_on", required=False),
        exemption_valid_until=parse.date_value(body.get("exemption_valid_until"), "exemption_valid_until", required=False),
        target_exam_start=parse.datetime_value(body.get("target_exam_start"), "target_exam_start", required=False),
        submitted=parse.bool_value(body.get("submitted"), "submitted"),
        raw=body,
    )


@bp.post("/providers/<provider_id>/policy")
def policy(provider_id: str):
    ctx = providers().default_context(provider_id)
    body = _body()
    _named_exams(ctx, body)
    decision = providers().policy(ctx, policy_facts(body))
    lang = request_language()
    answer = {"change": change_json(decision.change, lang), "cancel": cancel_json(decision.cancel, lang)}
    if decision.lapse is not None:
        answer["lapse"] = {"lapsed": decision.lapse.lapsed, "at": decision.lapse.at.isoformat() if decision.lapse.at else None,
                           "rule": decision.lapse.rule, "explanation": decision.lapse.explanation.text(lang)}
    return jsonify(answer)
