"""Security headers on every response, and the HTTPS / reverse-proxy settings.

The Content-Security-Policy allows scripts and styles from the portal's own origin only:
no inline ``<script>``, no ``on…=`` handlers, no ``eval`` (htmx is configured with
``allowEval: false`` and ``includeIndicatorStyles: false`` in base.html), and no page may be
framed (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` for older browsers).

With ``PREFERRED_URL_SCHEME=https`` the session and remember-me cookies are ``Secure`` and
responses carry HSTS. Behind a reverse proxy set ``PROXY_FIX_HOPS`` to the number of proxies
in front of the app: werkzeug's ProxyFix then takes the client address (rate limits), scheme
and host from their ``X-Forwarded-*`` headers — never set it without a proxy, or a client
could choose its own address.
"""
from __future__ import annotations

import os

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def configure(app: Flask) -> None:
    """Read the deployment settings from the environment (a test config may override them)."""
    app.config["PREFERRED_URL_SCHEME"] = os.environ.get("PREFERRED_URL_SCHEME") or app.config["PREFERRED_URL_SCHEME"]
    app.config["PROXY_FIX_HOPS"] = int(os.environ.get("PROXY_FIX_HOPS") or 0)


def init_app(app: Flask) -> None:
    https = app.config.get("PREFERRED_URL_SCHEME") == "https"
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    security = [("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Frame-Options", "DENY"),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                *([("Strict-Transport-Security", HSTS)] if https else [])]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        """Each header unless the view set its own (one pass over the response's headers)."""
        headers = response.headers
        present = {key.lower() for key, _ in headers.items()}
        headers.extend([(key, value) for key, value in security if key.lower() not in present])
        return response
