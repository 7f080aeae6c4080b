"""How the Odyssey rules print moments in their explanations."""
from __future__ import annotations

from datetime import datetime

from portal.sdk import Msg, format_day, jst


def moment(dt: datetime) -> Msg:
    """``2021-02-19(金) 23:59:59`` / ``Fri 2021-02-19 23:59:59``."""
    dt = jst(dt)
    day = format_day(dt.date())
    clock = dt.strftime("%H:%M:%S") if dt.second else dt.strftime("%H:%M")
    return Msg(f"{day.ja} {clock}", f"{day.en} {clock}")
