"""A success message after every action: a toast for htmx swaps, a flash across redirects.

A view calls :func:`success` once its transaction committed. The message then reaches
the user however the response travels:

- a full page rendered now shows it in the status region of ``base.html``;
- an htmx fragment carries it in an ``HX-Trigger`` header (``portal:toast``), which
  ``portal.js`` shows in the same region;
- a redirect (``HX-Redirect`` or 3xx) stores it with :func:`flask.flash` for the next page.
"""
from __future__ import annotations

import json

from flask import Flask, flash, g, get_flashed_messages

from portal.i18n import request_language
from portal.rules import Msg

TOAST_EVENT = "portal:toast"


def success(message: Msg | str) -> None:
    text = message.text(request_language()) if isinstance(message, Msg) else str(message)
    g.setdefault("success_messages", []).append(text)


def pending() -> list[str]:
    """Messages to show on the page being rendered: flashed earlier, then this request's."""
    return [*get_flashed_messages(category_filter=["success"]), *g.get("success_messages", [])]


def init_app(app: Flask) -> None:
    from portal import htmx

    @app.after_request
    def _deliver_messages(response):
        messages = g.pop("success_messages", None)
        if not messages:
            return response
        if "HX-Redirect" in response.headers or 300 <= response.status_code < 400:
            for text in messages:
                flash(text, "success")
        elif htmx.is_htmx():
            response.headers["HX-Trigger"] = json.dumps({TOAST_EVENT: {"messages": messages}}, ensure_ascii=True)
        # a full page rendered in this request already showed them (base.html, pending())
        return response
