"""A small helper for htmx requests and responses, modelled on django-htmx.

``details()`` reads the HX-* request headers; ``render()`` returns the partial for an
htmx request and the full page otherwise, always with ``Vary: HX-Request`` so caches keep
the two apart; the ``*_header`` helpers set HX-* response headers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response, make_response, render_template, request


@dataclass(frozen=True)
class HtmxDetails:
    request: bool
    boosted: bool
    target: str | None
    trigger: str | None
    trigger_name: str | None
    current_url: str | None
    history_restore_request: bool


def details() -> HtmxDetails:
    h = request.headers
    return HtmxDetails(
        request=h.get("HX-Request") == "true",
        boosted=h.get("HX-Boosted") == "true",
        target=h.get("HX-Target"),
        trigger=h.get("HX-Trigger"),
        trigger_name=h.get("HX-Trigger-Name"),
        current_url=h.get("HX-Current-URL"),
        history_restore_request=h.get("HX-History-Restore-Request") == "true",
    )


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the full page)."""
    d = details()
    return d.request and not d.history_restore_request and not d.boosted


def vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def render(full_template: str, partial_template: str, status: int = 200, **context: Any) -> Response:
    """The partial for an htmx request, the full page (which includes it) otherwise."""
    template = partial_template if is_htmx() else full_template
    response = make_response(render_template(template, **context), status)
    return vary(response)


def push_url(response: Response, url: str | bool) -> Response:
    response.headers["HX-Push-Url"] = "false" if url is False else str(url)
    return response


def replace_url(response: Response, url: str) -> Response:
    response.headers["HX-Replace-Url"] = url
    return response


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    response.headers["HX-Trigger"] = json.dumps({event: detail if detail is not None else True})
    return response


def redirect(url: str) -> Response:
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response


def retarget(response: Response, target: str, reswap: str | None = None) -> Response:
    response.headers["HX-Retarget"] = target
    if reswap:
        response.headers["HX-Reswap"] = reswap
    return response
