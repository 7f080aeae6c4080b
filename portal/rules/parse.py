"""Parsing request values into rule facts; every failure is a 400 naming the field."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from portal.rules.errors import BadInput, MissingFact
from portal.rules.types import JST, AttemptFact, Msg, Payment, jst

PAYMENT_METHODS = ("credit_card", "convenience_store", "pay_easy", "voucher", "invoice")
OUTCOMES = ("passed", "failed", "absent")


def _bad(field: str, ja: str, en: str) -> BadInput:
    return BadInput("invalid_field", Msg(f"{field}: {ja}", f"{field}: {en}"), field)


def datetime_value(value: Any, field: str, required: bool = True) -> datetime | None:
    """An ISO 8601 datetime; a value without offset is taken as Japan time."""
    if value is None or value == "":
        if required:
            raise MissingFact(field)
        return None
    if not isinstance(value, str):
        raise _bad(field, "ISO 8601 形式の日時を指定してください。", "expected an ISO 8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(field, f"日時として読めません: {value!r}", f"not a valid ISO 8601 date-time: {value!r}") from None
    if parsed.year < 1900 or parsed.year > 2999:
        raise _bad(field, "年が範囲外です。", "year out of range.")
    return jst(parsed)


def date_value(value: Any, field: str, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            raise MissingFact(field)
        return None
    if not isinstance(value, str):
        raise _bad(field, "YYYY-MM-DD 形式の日付を指定してください。", "expected a YYYY-MM-DD date string.")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise _bad(field, f"日付として読めません: {value!r}", f"not a valid YYYY-MM-DD date: {value!r}") from None
    if parsed.year < 1900 or parsed.year > 2999:
        raise _bad(field, "年が範囲外です。", "year out of range.")
    return parsed


def bool_value(value: Any, field: str, required: bool = False) -> bool | None:
    if value is None:
        if required:
            raise MissingFact(field)
        return None
    if isinstance(value, bool):
        return value
    raise _bad(field, "true または false を指定してください。", "expected true or false.")


def int_value(value: Any, field: str, minimum: int = 0, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise MissingFact(field)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, "整数を指定してください。", "expected an integer.")
    if value < minimum:
        raise _bad(field, f"{minimum} 以上を指定してください。", f"must be at least {minimum}.")
    if value > 10**9:
        raise _bad(field, "大きすぎます。", "too large.")
    return value


def positive_int(value: Any, field: str) -> int:
    return int_value(value, field, minimum=1)  # type: ignore[return-value]


def string_value(value: Any, field: str, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise MissingFact(field)
        return None
    if not isinstance(value, str):
        raise _bad(field, "文字列を指定してください。", "expected a string.")
    return value


def mapping_value(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(field, "オブジェクトを指定してください。", "expected an object.")
    return value


def items_list(payload: Mapping[str, Any], field: str = "items") -> list[Mapping[str, Any]]:
    items = payload.get(field)
    if items is None:
        raise MissingFact(field)
    if not isinstance(items, list) or not items:
        raise _bad(field, "1件以上の配列を指定してください。", "expected a non-empty list.")
    for i, item in enumerate(items):
        mapping_value(item, f"{field}[{i}]")
    return items


def payment_value(value: Any, field: str = "payment") -> Payment | None:
    if value is None:
        return None
    data = mapping_value(value, field)
    method = data.get("method")
    if method not in PAYMENT_METHODS:
        raise _bad(f"{field}.method", f"{', '.join(PAYMENT_METHODS)} のいずれかを指定してください。",
                   f"expected one of {', '.join(PAYMENT_METHODS)}.")
    paid = bool_value(data.get("paid"), f"{field}.paid")
    return Payment(
        method=method,
        paid=bool(paid) if paid is not None else method in ("credit_card", "voucher"),
        amount=int_value(data.get("amount"), f"{field}.amount", required=False),
        due=datetime_value(data.get("due"), f"{field}.due", required=False),
    )


def attempts_list(value: Any, field: str = "attempts") -> list[AttemptFact]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(field, "配列を指定してください。", "expected a list.")
    attempts = []
    for i, raw in enumerate(value):
        item = mapping_value(raw, f"{field}[{i}]")
        start = datetime_value(item.get("start"), f"{field}[{i}].start")
        end = datetime_value(item.get("end"), f"{field}[{i}].end", required=False) or start
        outcome = item.get("outcome")
        if outcome not in OUTCOMES:
            raise _bad(f"{field}[{i}].outcome", "passed / failed / absent のいずれかです。", "expected passed, failed or absent.")
        if end < start:
            raise _bad(f"{field}[{i}].end", "終了が開始より前です。", "end is before start.")
        attempts.append(AttemptFact(start, end, outcome))
    attempts.sort(key=lambda a: a.start)
    return attempts


def now_jst() -> datetime:
    return datetime.now(JST)
