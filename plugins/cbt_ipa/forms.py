"""HTML form values → the plugin's inputs; every failure is a BadInput naming the field."""
from __future__ import annotations

from datetime import date, datetime
from typing import Mapping

from portal.sdk import BadInput, Msg, datetime_local, int_field, parse

from plugins.cbt_ipa.services import BookingInput


def date_field(form: Mapping[str, str], name: str) -> date | None:
    return parse.date_value((form.get(name) or "").strip() or None, name, required=False)


def datetime_field(form: Mapping[str, str], name: str, required: bool = False) -> datetime | None:
    raw = (form.get(name) or "").strip()
    return parse.datetime_value(datetime_local(raw) if raw else None, name, required=required)


def booking_input(form: Mapping[str, str], payment_methods) -> BookingInput:
    method = form.get("payment_method") or ""
    if method not in payment_methods:
        raise BadInput("invalid_field", Msg("支払方法を選んでください。", "Choose a payment method."), "payment_method")
    return BookingInput(
        candidate_id=int_field(form, "candidate_id"),
        exam=form.get("exam") or "",
        payment_method=method,
        voucher_issued_on=date_field(form, "voucher_issued_on"),
        voucher_expires_on=date_field(form, "voucher_expires_on"),
        exemption_valid_until=date_field(form, "exemption_valid_until") if form.get("exam") == "FE" else None,
    )


def venue_filter(form: Mapping[str, str]) -> str:
    return (form.get("venue") or "").strip()
