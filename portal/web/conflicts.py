"""A lost race that no view caught is answered like a refusal, never as a 500.

Views catch :class:`~portal.rules.RuleError` (a :class:`~portal.guard.Conflict` is one)
and show it in their own page. Whatever escapes them — a Conflict raised outside a view's
``try``, or a database error met outside :func:`portal.db.transaction` that
:func:`portal.guard.translate` recognises as a lost race — reaches these handlers: a 409
page (for htmx, the message swapped into the page's ``#errors`` box), logged on one line
without a traceback. Any other database error stays an error.
"""
from __future__ import annotations

from flask import Flask, make_response, render_template, request
from sqlalchemy.exc import DBAPIError

from portal import api, db, htmx
from portal.guard import Conflict, log_conflict, translate


def conflict_response(conflict: Conflict):
    """The 409 answer of a lost race: a page, or for htmx the message in ``#errors``."""
    db.session().rollback()
    log_conflict(conflict)
    if request.blueprint == "api":  # the rules API answers with the contract's error body
        return api.rule_error(conflict)
    if htmx.is_htmx():
        response = htmx.vary(_response(render_template("errors/partials/conflict.html", conflict=conflict)))
        response.headers["HX-Retarget"] = "#errors"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return htmx.vary(_response(render_template("errors/conflict.html", conflict=conflict)))


def _response(body: str):
    return make_response(body, Conflict.status)


def init_app(app: Flask) -> None:
    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        return conflict_response(exc)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError):
        conflict = translate(exc)
        if conflict is None:
            raise exc  # not a lost race: a real error
        return conflict_response(conflict)
