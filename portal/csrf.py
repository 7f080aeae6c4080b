"""CSRF protection: Flask-WTF's, remembering the tokens whose signature it has checked.

A page's token is sent with every form and htmx request of that page, and Flask-WTF builds
a serializer and checks the token's signature again for each (as much work as a small
request's own). Here a signed token whose signature was checked once is remembered with the
raw token it carries; a later request sending it is still compared, in constant time, with
its own session's token, so a token from another session is refused as before. Tokens that
expire (``WTF_CSRF_TIME_LIMIT`` set) are always checked in full by Flask-WTF.
"""
from __future__ import annotations

import hmac
import logging

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, ValidationError, same_origin, validate_csrf

logger = logging.getLogger("flask_wtf.csrf")


class PortalCSRFProtect(CSRFProtect):
    #: (secret key, signed token) → the raw token it carries, for tokens whose signature was
    #: checked. Bounded: emptied when full.
    _checked: dict[tuple[str, str], str] = {}
    CHECKED_MAX = 4096

    def protect(self, apply_exemptions: bool = False) -> None:
        """Flask-WTF's ``CSRFProtect.protect`` (the same checks and messages), validating
        through :meth:`_validate`."""
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return  # first: the cheaper question
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        try:
            self._validate(self._get_csrf_token())
        except ValidationError as e:
            logger.info(e.args[0])
            self._error_response(e.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True

    def _validate(self, data: str | None) -> None:
        config = current_app.config
        if config.get("WTF_CSRF_TIME_LIMIT") is not None or not data:
            return validate_csrf(data)  # expiring tokens, and the "missing" message
        field_name = config["WTF_CSRF_FIELD_NAME"]
        secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        raw = self._checked.get((secret_key, data))
        if raw is None:
            validate_csrf(data)  # the signature, and the match with this session's token
            if len(self._checked) >= self.CHECKED_MAX:
                self._checked.clear()
            self._checked[(secret_key, data)] = session[field_name]
            return None
        if field_name not in session:
            raise ValidationError("The CSRF session token is missing.")
        if not hmac.compare_digest(session[field_name], raw):
            raise ValidationError("The CSRF tokens do not match.")
        return None
