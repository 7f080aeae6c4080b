"""HTML form values → the plugin's inputs; every failure is a BadInput naming the field."""
from __future__ import annotations

from datetime import date, datetime
from typing import Mapping

from portal.sdk import datetime_local, parse


def date_field(form: Mapping[str, str], name: str) -> date | None:
    return parse.date_value((form.get(name) or "").strip() or None, name, required=False)


def datetime_field(form: Mapping[str, str], name: str, required: bool = False) -> datetime | None:
    raw = (form.get(name) or "").strip()
    return parse.datetime_value(datetime_local(raw) if raw else None, name, required=required)
