"""The organisation's JSTC sessions and open application deadlines for the core's
dashboard, month calendar and ICS feed (hooks ``provider_sessions``, ``provider_due_items``)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from flask import url_for
from sqlalchemy import bindparam
from sqlmodel import select

from portal.sdk import JST, DueItem, SessionItem, db, jst

from plugins.jstc_group import rules
from plugins.jstc_group.models import JstcApplication, JstcSession


@cache
def _sessions_query(by: str):
    """The organisation's sessions whose ``by`` date (``application_deadline`` or
    ``exam_date``) lies in a window, with their applications: built once per column (values
    bound per call), so that years of past sessions are never read."""
    column = getattr(JstcSession, by)
    return (select(JstcSession, JstcApplication)
            .join(JstcApplication, JstcApplication.session_id == JstcSession.id, isouter=True)
            .where(JstcSession.organization_id == bindparam("organization_id"),
                   column >= bindparam("first"), column <= bindparam("last"))
            .order_by(JstcSession.exam_date))


def _sessions_with_applications(organization_id: int, by: str, start: datetime, end: datetime):
    """Sessions whose ``by`` date falls on a Japanese calendar day touched by ``[start, end)``
    (callers keep the exact moments in range)."""
    first, last = jst(start).date(), jst(end - timedelta(microseconds=1)).date()
    return db.session().execute(_sessions_query(by), {"organization_id": organization_id,
                                                      "first": first, "last": last}).all()


def _link(application: JstcApplication | None) -> str:
    return url_for("jstc_group.group", application_id=application.id) if application else url_for("jstc_group.index")


def due_items(provider_id: str, organization_id: int, start: datetime, end: datetime) -> list[DueItem]:
    """JST-AP-1: the upload deadline of every session whose bulk form is not uploaded yet."""
    items = []
    for session, application in _sessions_with_applications(organization_id, "application_deadline", start, end):
        if application is not None and application.locked:
            continue
        deadline = rules.application_deadline(session.dates())
        if start <= deadline.at < end:
            items.append(DueItem(provider=provider_id, kind=deadline.kind, at=deadline.at, rule=deadline.rule,
                                 explanation=deadline.explanation, subject=f"{session.name} 一括申込書",
                                 url=_link(application), uid=f"{provider_id}-application-session-{session.id}"))
    return items


def session_items(provider_id: str, organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
    """Each session as an all-day item on its exam date (the rulebook gives no exam time)."""
    items = []
    for session, application in _sessions_with_applications(organization_id, "exam_date", start, end):
        day_start = datetime.combine(session.exam_date, time(0, 0), JST)
        if start <= day_start < end:
            items.append(SessionItem(provider=provider_id, exam=None, start=day_start, end=day_start + timedelta(days=1),
                                     label=f"{session.name} 技術英語能力検定", url=_link(application),
                                     uid=f"{provider_id}-session-{session.id}"))
    return items
