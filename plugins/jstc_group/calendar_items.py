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
from plugins.jstc_group.sessions import SessionDates


@cache
def _sessions_query(by: str):
    """The organisation's sessions whose ``by`` date (``application_deadline`` or
    ``exam_date``) lies in a window, with their applications: built once per column (values
    bound per call), so that years of past sessions are never read."""
    session, application = JstcSession.__table__.c, JstcApplication.__table__.c
    column = session[by]
    return (select(session.id, session.name, session.exam_date, session.application_opens,
                   session.application_deadline, application.id.label("application_id"), application.applied_at)
            .join_from(JstcSession.__table__, JstcApplication.__table__, application.session_id == session.id,
                       isouter=True)
            .where(session.organization_id == bindparam("organization_id"),
                   column >= bindparam("first"), column <= bindparam("last"))
            .order_by(session.exam_date))


def _sessions_with_applications(organization_id: int, by: str, start: datetime, end: datetime):
    """Sessions whose ``by`` date falls on a Japanese calendar day touched by ``[start, end)``
    (callers keep the exact moments in range). Plain rows on the session's connection: the
    dashboard asks on every page view, and loading ORM objects cost more than the query."""
    first, last = jst(start).date(), jst(end - timedelta(microseconds=1)).date()
    return db.session().connection().execute(_sessions_query(by), {"organization_id": organization_id,
                                                                   "first": first, "last": last}).all()


def _link(application_id: int | None) -> str:
    return url_for("jstc_group.group", application_id=application_id) if application_id else url_for("jstc_group.index")


def due_items(provider_id: str, organization_id: int, start: datetime, end: datetime) -> list[DueItem]:
    """JST-AP-1: the upload deadline of every session whose bulk form is not uploaded yet."""
    items = []
    for row in _sessions_with_applications(organization_id, "application_deadline", start, end):
        if row.applied_at is not None:  # the bulk form is uploaded: nothing is due (JstcApplication.locked)
            continue
        deadline = rules.application_deadline(
            SessionDates(row.name, row.exam_date, row.application_opens, row.application_deadline))
        if start <= deadline.at < end:
            items.append(DueItem(provider=provider_id, kind=deadline.kind, at=deadline.at, rule=deadline.rule,
                                 explanation=deadline.explanation, subject=f"{row.name} 一括申込書",
                                 url=_link(row.application_id), uid=f"{provider_id}-application-session-{row.id}"))
    return items


def session_items(provider_id: str, organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
    """Each session as an all-day item on its exam date (the rulebook gives no exam time)."""
    items = []
    for row in _sessions_with_applications(organization_id, "exam_date", start, end):
        day_start = datetime.combine(row.exam_date, time(0, 0), JST)
        if start <= day_start < end:
            items.append(SessionItem(provider=provider_id, exam=None, start=day_start, end=day_start + timedelta(days=1),
                                     label=f"{row.name} 技術英語能力検定", url=_link(row.application_id),
                                     uid=f"{provider_id}-session-{row.id}"))
    return items
