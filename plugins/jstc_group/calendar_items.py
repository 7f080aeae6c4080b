"""The organisation's JSTC sessions and open application deadlines for the core's
dashboard, month calendar and ICS feed (hooks ``provider_sessions``, ``provider_due_items``)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from flask import url_for
from sqlalchemy import bindparam
from sqlmodel import select

from portal.sdk import JST, DueItem, SessionItem, db

from plugins.jstc_group import rules
from plugins.jstc_group.models import JstcApplication, JstcSession


@cache
def _sessions_query():
    """Every session of the organisation with its application, built once (values bound per call)."""
    return (select(JstcSession, JstcApplication)
            .join(JstcApplication, JstcApplication.session_id == JstcSession.id, isouter=True)
            .where(JstcSession.organization_id == bindparam("organization_id")).order_by(JstcSession.exam_date))


def _sessions_with_applications(organization_id: int):
    return db.session().execute(_sessions_query(), {"organization_id": organization_id}).all()


def _link(application: JstcApplication | None) -> str:
    return url_for("jstc_group.group", application_id=application.id) if application else url_for("jstc_group.index")


def due_items(provider_id: str, organization_id: int, start: datetime, end: datetime) -> list[DueItem]:
    """JST-AP-1: the upload deadline of every session whose bulk form is not uploaded yet."""
    items = []
    for session, application in _sessions_with_applications(organization_id):
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
    for session, application in _sessions_with_applications(organization_id):
        day_start = datetime.combine(session.exam_date, time(0, 0), JST)
        if start <= day_start < end:
            items.append(SessionItem(provider=provider_id, exam=None, start=day_start, end=day_start + timedelta(days=1),
                                     label=f"{session.name} 技術英語能力検定", url=_link(application),
                                     uid=f"{provider_id}-session-{session.id}"))
    return items
