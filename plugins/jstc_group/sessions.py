"""Sessions (開催回) as data: exam date, application period and its deadline (JST-AP-1).

The published sessions in ``data/sessions.json`` answer the public rules API; an
organisation records the sessions it runs in its own table (``models.JstcSession``), and
both are turned into the same :class:`SessionDates` value for the rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from portal.sdk import Msg, end_of_day, format_day, jst

_DATA = Path(__file__).parent / "data" / "sessions.json"


@dataclass(frozen=True)
class SessionDates:
    name: str
    exam_date: date
    application_opens: date
    application_deadline: date

    @property
    def deadline_at(self) -> datetime:
        """Section 3.5: no upload after the application deadline day (23:59:59 JST)."""
        return end_of_day(self.application_deadline)

    def window_state(self, at: datetime) -> str:
        """``not_open`` before the application period, ``open`` in it, ``closed`` after."""
        day = jst(at)
        if day.date() < self.application_opens:
            return "not_open"
        if day > self.deadline_at:
            return "closed"
        return "open"

    def period_msg(self) -> Msg:
        opens, deadline = format_day(self.application_opens), format_day(self.application_deadline)
        return Msg(f"申込期間 {opens.ja}〜{deadline.ja}", f"application period {opens.en} to {deadline.en}")


def published_sessions() -> list[SessionDates]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return [SessionDates(s["name"], date.fromisoformat(s["exam_date"]), date.fromisoformat(s["application_opens"]),
                         date.fromisoformat(s["application_deadline"])) for s in data["sessions"]]


def published_session_on(exam_day: date) -> SessionDates | None:
    """The published session held on ``exam_day`` (the session is "known"), or None."""
    for session in published_sessions():
        if session.exam_date == exam_day:
            return session
    return None
