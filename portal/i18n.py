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
    lang = request.args.get("lang")
    if lang in SUPPORTED:
        return lang
    chosen = g.get("ui_language")
    if chosen in SUPPORTED:
        return chosen
    best = request.accept_languages.best_match(SUPPORTED)
    return best or DEFAULT
