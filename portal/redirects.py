"""The one place that decides where a ``next=`` may send the browser: a path on this site,
never another host. Browsers ignore tab / line breaks inside a URL and read a backslash as a
slash, so ``/<TAB>/evil.example`` or ``/\\evil.example`` would leave the site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for

from portal.inputs import has_control_characters


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """``target`` when it is a local path, else ``fallback`` (the home page by default)."""
    fallback = fallback or url_for("web.home")
    if not target or target in ("/?",):
        return fallback
    if has_control_characters(target) or any(c in target for c in "\t\r\n\\") or target != target.strip():
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. a netloc that NFKC turns into another (Python refuses to split it)
        return fallback
    if parts.scheme or parts.netloc:
        return fallback
    return target
