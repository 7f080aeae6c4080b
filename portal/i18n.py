"""Which language a request is answered in: Japanese by default, English on request."""
from __future__ import annotations

from flask import g, has_request_context, request

SUPPORTED = ("ja", "en")
DEFAULT = "ja"


def request_language() -> str:
    """``?lang=`` first, then the UI's stored choice (set by the web views, never by the
    API, which reads no session), then Accept-Language, else Japanese."""
    if not has_request_context():
        return DEFAULT
    known = g.get("request_language")
    if known is not None:
        return known  # templates ask once per translated value: decide once per request
    lang = request.args.get("lang")
    if lang not in SUPPORTED:
        chosen = g.get("ui_language")
        lang = chosen if chosen in SUPPORTED else request.accept_languages.best_match(SUPPORTED) or DEFAULT
    if "ui_language" in g:  # the UI's choice is known (set before the views run): it will not change
        g.request_language = lang
    return lang
