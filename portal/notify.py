"""A success message after every action: a toast for htmx swaps, a flash across redirects.

A view calls :func:`success` once its transaction committed; a view that does not gets
a message made from what it wrote to the audit log (every change is audited), so every
action of the core and of every plugin says it was done. The message then reaches the
user however the response travels:

- a full page rendered now shows it in the status region of ``base.html``;
- an htmx fragment carries it in an ``HX-Trigger`` header (``portal:toast``), which
  ``portal.js`` shows in the same region;
- a redirect (``HX-Redirect`` or 3xx) stores it with :func:`flask.flash` for the next page.
"""
from __future__ import annotations

import json

from flask import Flask, current_app, flash, g, get_flashed_messages, request
from flask_babel import gettext

from portal.i18n import request_language
from portal.rules import Msg

TOAST_EVENT = "portal:toast"


def success(message: Msg | str) -> None:
    text = message.text(request_language()) if isinstance(message, Msg) else str(message)
    g.setdefault("success_messages", []).append(text)


def pending() -> list[str]:
    """Messages to show on the page being rendered: flashed earlier, then this request's
    (a full page rendered after a POST shows them now; see ``_deliver_messages``)."""
    g.success_shown = True
    own = g.get("success_messages") or _audit_message()
    return [*get_flashed_messages(category_filter=["success"]), *own]


def _from_audit(response) -> list[str]:
    if response.status_code >= 400:
        return []
    return _audit_message()


def _audit_message() -> list[str]:
    """"Done (booking: payment received)" for changes that committed without a message."""
    audited = g.get("audited")
    if not audited or request.method != "POST":
        return []
    from portal.audit_view import vocabulary
    vocab = vocabulary(current_app.extensions["exam_portal.pm"])
    seen = dict.fromkeys(f"{vocab.entities.get(entity, entity)}: {vocab.actions.get(action, action)}"
                         for action, entity in audited)
    return [gettext("完了しました(%(what)s)。", what="、".join(seen))]


def init_app(app: Flask) -> None:
    from portal import htmx

    @app.after_request
    def _deliver_messages(response):
        messages = g.pop("success_messages", None) or _from_audit(response)
        if not messages:
            return response
        if g.get("success_shown") and not ("HX-Redirect" in response.headers or 300 <= response.status_code < 400):
            return response  # the page rendered in this request showed them
        if "HX-Redirect" in response.headers or 300 <= response.status_code < 400:
            for text in messages:
                flash(text, "success")
        elif htmx.is_htmx():
            response.headers["HX-Trigger"] = json.dumps({TOAST_EVENT: {"messages": messages}}, ensure_ascii=True)
        return response
