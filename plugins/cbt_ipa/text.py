"""Bilingual wording of days and moments for the explanations."""
from __future__ import annotations

from datetime import date, datetime

from portal.sdk import Msg, format_day, jst


def day(d: date) -> Msg:
    """``2026-04-01(水)`` / ``Wed 2026-04-01``."""
    return format_day(d)


def moment(dt: datetime) -> Msg:
    """``2026-04-01(水) 12:30`` / ``Wed 2026-04-01 12:30`` (Japan time)."""
    local = jst(dt)
    shown = format_day(local.date())
    clock = local.strftime("%H:%M") if local.second == 0 else local.strftime("%H:%M:%S")
    return Msg(f"{shown.ja} {clock}", f"{shown.en} {clock}")


def minutes(n: float) -> Msg:
    whole = int(n) if float(n).is_integer() else round(n, 1)
    return Msg(f"{whole}分", f"{whole} min")
