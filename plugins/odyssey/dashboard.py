"""Odyssey exam days on the core's dashboard, calendar and ICS feed
(hooks provider_due_items / provider_sessions)."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask import url_for
from sqlalchemy import bindparam
from sqlmodel import select

from portal.sdk import Deadline, DueItem, RuleError, SessionItem, db, jst

from plugins.odyssey import deadlines
from plugins.odyssey.models import OdysseyExamDay

#: Which deadlines still matter in each state (ODY-ST): before confirmation the venue must
#: apply (and may request a self-exam); once confirmed, payment and late additions remain.
OPEN_KINDS = {
    "draft": ("application", "payment", "self_exam_request"),
    "confirmed": ("payment", "late_addition"),
}


@cache
def _days_query(by_state: bool):
    """The exam days of a window (id, exam_start, state), built once per shape (values bound
    per call)."""
    day = OdysseyExamDay.__table__.c
    query = select(day.id, day.exam_start, day.state).where(
        day.organization_id == bindparam("organization_id"), day.exam_start >= bindparam("start"),
        day.exam_start < bindparam("end"))
    if by_state:
        query = query.where(day.state.in_(bindparam("states", expanding=True)))
    return query.order_by(day.exam_start)


def _days(organization_id: int, start: datetime, end: datetime, states=None):
    """Plain rows (``id``, ``exam_start``, ``state``) on the session's connection: the
    dashboard asks on every page view, and loading ORM objects cost more than the query."""
    params = {"organization_id": organization_id, "start": start, "end": end}
    if states:
        params["states"] = list(states)
    return db.session().connection().execute(_days_query(bool(states)), params).all()


def open_deadlines(ctx, exam_start: datetime, state: str) -> list[Deadline]:
    """The deadlines of an exam day in ``state`` that still matter (:data:`OPEN_KINDS`),
    computed from the rules in ``ctx``; a :class:`RuleError` for a day on a closure day
    (ODY-DL-3), which has none."""
    answers = deadlines.exam_day_deadlines(ctx.calendar, exam_start, bool(ctx.setting(deadlines.SETTING_STRICT_13)))
    return [d for d in answers if d.kind in OPEN_KINDS[state]]


def due_items(ctx, organization_id: int, start: datetime, end: datetime) -> list[DueItem]:
    items = []
    # Deadlines come before the exam: look at exam days up to a month past the window.
    for day in _days(organization_id, start, end + timedelta(days=31), tuple(OPEN_KINDS)):
        try:
            answers = open_deadlines(ctx, day.exam_start, day.state)
        except RuleError:
            continue  # an exam day on a closure day: its page says why
        label = f"{jst(day.exam_start):%Y-%m-%d %H:%M} 試験日"
        for d in answers:
            if start <= d.at < end:
                items.append(DueItem(ctx.provider.id, d.kind, d.at, d.rule, d.explanation, label,
                                     url_for("odyssey.day", day_id=day.id), f"odyssey-{d.kind}-day-{day.id}"))
    return items


def sessions(ctx, organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
    return [SessionItem(ctx.provider.id, None, day.exam_start, day.exam_start + timedelta(hours=3),
                        f"Odyssey 試験日 ({day.state})", url_for("odyssey.day", day_id=day.id), f"odyssey-day-{day.id}")
            for day in _days(organization_id, start, end) if day.state != "expired"]
