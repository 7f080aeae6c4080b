"""A small helper for htmx requests and responses, modelled on django-htmx.

``details()`` reads the HX-* request headers; ``render()`` returns the partial for an
htmx request and the full page otherwise, always with ``Vary: HX-Request`` so caches keep
the two apart; ``redirect()`` answers with ``HX-Redirect``.
"""
from __future__ import annotations

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


def redirect(url: str) -> Response:
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response

