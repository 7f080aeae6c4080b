"""One input layer for the query strings and form fields of every page.

Before any view runs, every field name and value of ``request.args`` and ``request.form``
(and every uploaded file's name) is screened: control characters (NUL and the rest of C0
but tab / line breaks, and DEL) are refused, and so is a value longer than
``INPUT_MAX_LENGTH`` — PostgreSQL cannot store NUL in text and no field of the portal needs
more. A refusal is :class:`InvalidInput`: a 422 that names the field, in the user's
language, before anything is read or written.

Views read integers through :func:`int_arg` (query strings) or
``portal.web.forms.int_field`` (forms), both range-checked against ``DB_INT_MAX`` or a
tighter bound, so an integer that the database cannot hold never reaches it; the ``int``
URL converter is bounded the same way (a larger id is a 404). Behind all that, a flush guard
refuses any text longer than its column or holding NUL, whatever code derived it, and a
refusal no view caught is still a 4xx page, never a 500.
"""
from __future__ import annotations

import re
from typing import Mapping

from flask import Flask, make_response, render_template, request
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session as OrmSession
from werkzeug.routing import IntegerConverter

from portal import htmx
from portal.rules import BadInput, Msg, RuleError

#: The largest value of an INTEGER column (PostgreSQL int4): ids, counts, amounts.
DB_INT_MAX = 2**31 - 1
#: The last page number a list accepts (far beyond any real list; the offset stays small).
MAX_PAGE = 100_000
#: "Deadline within N days" filters: ten years at most.
MAX_WITHIN_DAYS = 3660
#: No field of the portal needs more characters (names, notes, filters, dates, next= paths).
INPUT_MAX_LENGTH = 2000
#: C0 control characters except tab, line feed and carriage return; and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidInput(BadInput):
    """A field the input layer refuses: a 422 naming the field."""

    status = 422

    def __init__(self, field: str, message: Msg):
        super().__init__("invalid_field", message, field)


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds NUL or another control character (tab and newline allowed)."""
    return bool(CONTROL_CHARACTERS.search(text))


def check_text(field: str, value: str, max_length: int = INPUT_MAX_LENGTH) -> str:
    """``value`` unchanged, or :class:`InvalidInput` for control characters or excess length."""
    if has_control_characters(value):
        raise InvalidInput(field, Msg(f"「{_label(field)}」に使えない文字(制御文字)が含まれています。",
                                      f"'{_label(field)}' contains characters that are not allowed (control characters)."))
    if len(value) > max_length:
        raise InvalidInput(field, Msg(f"「{_label(field)}」が長すぎます({max_length}文字まで)。",
                                      f"'{_label(field)}' is too long ({max_length} characters at most)."))
    return value


def _label(field: str) -> str:
    """A field name as shown in a message (a refused name itself may hold anything)."""
    shown = CONTROL_CHARACTERS.sub("?", field)
    return shown if len(shown) <= 40 else shown[:40] + "…"


def int_arg(args: Mapping[str, str], name: str, default: int | None, minimum: int = 0,
            maximum: int = DB_INT_MAX) -> int | None:
    """An integer query/form field: ``default`` when absent or empty, else ASCII digits within
    ``[minimum, maximum]`` or :class:`InvalidInput`."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise InvalidInput(name, Msg(f"「{name}」は半角数字で指定してください。", f"'{name}' must be a number."))
    if len(raw) > 12 or not minimum <= int(raw) <= maximum:
        raise InvalidInput(name, Msg(f"「{name}」は{minimum}から{maximum}までの数で指定してください。",
                                     f"'{name}' must be a number from {minimum} to {maximum}."))
    return int(raw)


def screen_request() -> None:
    """The before-request check of every field of a page request (the JSON rules API
    parses its own body)."""
    if request.blueprint == "api":
        return
    for name, value in request.args.items(multi=True):
        check_text(name, name, 100)
        check_text(name, value)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for name, value in request.form.items(multi=True):
            check_text(name, name, 100)
            check_text(name, value)
        for name, upload in request.files.items(multi=True):
            check_text(name, upload.filename or "", 255)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` with the database's range: a larger id is a 404, never an overflow."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def invalid_input_response(exc: RuleError):
    """422 (or the refusal's own 4xx): for htmx the message replaces the page's error box; otherwise a page saying it."""
    if htmx.is_htmx():
        response = htmx.vary(make_response(render_template("errors/partials/input.html", error=exc), _status(exc)))
        response.headers["HX-Retarget"] = "#errors"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return htmx.vary(make_response(render_template("errors/input.html", error=exc), _status(exc)))


def _status(exc: RuleError) -> int:
    return exc.status if 400 <= exc.status < 500 else 422


def install_converter(app: Flask) -> None:
    """The bounded ``int`` converter: before any route is added."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def init_app(app: Flask) -> None:
    """The screening (after the sign-in check: an anonymous request is sent to sign in first),
    the flush guard, and one answer for a refusal no view caught."""
    app.before_request(screen_request)
    install_flush_guard()
    app.register_error_handler(RuleError, _uncaught_refusal)


def _uncaught_refusal(exc: RuleError):
    """A refusal that reached no view's handler (the flush guard's, say) is still a 4xx page
    naming the field, never a 500 (the rules API's own handler answers its errors in JSON)."""
    return invalid_input_response(exc)


# --------------------------------------------------------------------------- the last line: flush


def _storable(session, _context, _instances) -> None:
    """Before any flush, on every session: a text value longer than its column or holding
    NUL is refused as a field error naming the column. The screening above
    catches request fields; this catches what a view or an import derived from them, so no
    value reaches the database that it cannot store (PostgreSQL: NUL, VARCHAR(n))."""
    for obj in (*session.new, *session.dirty):
        mapper = sa_inspect(obj).mapper
        for column in mapper.columns:
            length = getattr(column.type, "length", None)  # VARCHAR(n); SQLModel's AutoString proxies it
            value = getattr(obj, mapper.get_property_by_column(column).key, None)
            if not isinstance(value, str):
                continue
            if "\x00" in value:
                raise InvalidInput(column.key, Msg(f"「{column.key}」に使えない文字(NUL)が含まれています。",
                                                   f"'{column.key}' contains a NUL character."))
            if length is not None and len(value) > length:
                raise InvalidInput(column.key, Msg(f"「{column.key}」が長すぎます({length}文字まで)。",
                                                   f"'{column.key}' is too long ({length} characters at most)."))


def install_flush_guard() -> None:
    if not event.contains(OrmSession, "before_flush", _storable):
        event.listen(OrmSession, "before_flush", _storable)
