"""HTML form values → the rules API's request shape, so the UI and the API share one
parser (portal.api.policy_facts) and one set of error messages."""
from __future__ import annotations

from typing import Any, Mapping

from portal.inputs import DB_INT_MAX
from portal.rules import BadInput, Msg

DATETIME_FIELDS = ("exam_start", "at", "booked_at", "first_booked_at", "target_exam_start")
DATE_FIELDS = ("voucher_issued_on", "exemption_valid_until")


def datetime_local(value: str) -> str:
    """``<input type=datetime-local>`` gives ``YYYY-MM-DDTHH:MM`` (Japan time here);
    a bare date means its start."""
    value = value.strip()
    if len(value) == 10:
        value += "T00:00"
    return value + "+09:00" if value and "+" not in value[10:] and not value.endswith("Z") else value


def int_field(form: Mapping[str, str], name: str, maximum: int = DB_INT_MAX) -> int | None:
    """A whole number of at most ``maximum`` (by default what an INTEGER column holds)."""
    raw = (form.get(name) or "").replace(",", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput("invalid_field", Msg("半角数字で入力してください。", "Enter digits only."), name)
    if len(raw) > 12 or int(raw) > maximum:
        raise BadInput("invalid_field", Msg(f"{maximum:,}以下の数を入力してください。",
                                            f"Enter a number no greater than {maximum:,}."), name)
    return int(raw)


def form_to_contract(form: Mapping[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in DATETIME_FIELDS:
        if form.get(name):
            body[name] = datetime_local(form[name])
    for name in DATE_FIELDS:
        if form.get(name):
            body[name] = form[name].strip()
    if form.get("exam"):
        body["exam"] = form["exam"]
    if form.get("payment_method"):
        payment: dict[str, Any] = {"method": form["payment_method"], "paid": form.get("paid") in ("on", "true", "1")}
        amount = int_field(form, "amount")
        if amount is not None:
            payment["amount"] = amount
        if form.get("payment_due"):
            payment["due"] = datetime_local(form["payment_due"])
        body["payment"] = payment
    return body
