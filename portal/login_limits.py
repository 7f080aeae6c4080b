"""Login defence: failed sign-ins are rate limited per account and per client address
(the ``limits`` library, Flask-Limiter's own engine, with its storage: in memory on the
embedded default, ``RATELIMIT_STORAGE_URI`` (e.g. ``redis://…``) in production so the limit
holds across worker processes), and the answer costs one password hash whether the account
exists or not.

The limits are asked for by the sign-in view only: Flask-Limiter itself would add a check
before, after and at the end of every request of the portal for limits no other route has.

Only failures count: a colleague who signs in correctly is never slowed down, while 30 wrong
passwords lock the account (and the address) out for the window even with the right one.
"""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.security import check_password_hash, generate_password_hash

DEFAULTS = {
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 15 minutes",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "exam-portal",
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["exam_portal.login_limiter"] = FixedWindowRateLimiter(storage)


def _limiter() -> FixedWindowRateLimiter:
    return current_app.extensions["exam_portal.login_limiter"]


def get_remote_address() -> str:
    return request.remote_addr or "127.0.0.1"


def _limits(email: str) -> list[tuple[RateLimitItem, str]]:
    config = current_app.config
    return [(parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), f"login-account:{email}"),
            (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), f"login-address:{get_remote_address()}")]


def _key(key: str) -> str:
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{key}"


def blocked(email: str) -> bool:
    """True when the account or this client address has used up its failed attempts."""
    strategy = _limiter()
    return any(not strategy.test(item, _key(key)) for item, key in _limits(email))


def record_failure(email: str) -> None:
    strategy = _limiter()
    for item, key in _limits(email):
        strategy.hit(item, _key(key))


def record_success(email: str) -> None:
    """A correct sign-in clears the account's failures (the address keeps its count)."""
    item, key = _limits(email)[0]
    _limiter().clear(item, _key(key))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not a password of anyone")


def password_matches(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash, or against a dummy hash when there is no
    account, so both answers take the same time (no account enumeration by timing)."""
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
