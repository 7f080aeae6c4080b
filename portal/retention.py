"""Personal data of the core's candidates is not kept forever.

The retention clock runs from the candidate's last exam — the latest end of any exam session
they were booked on (whatever the booking's status says: nothing has to move a past booking
on for the clock to run) or of any attempt on record — or, for a candidate who never sat an
exam, from the day they were entered. ``PERSONAL_DATA_RETENTION_DAYS`` after that, the
candidate's name, kana and e-mail are blanked and the same personal fields are redacted from
the audit snapshots about them (the event, who and when stay). The rows stay, so counts and
the audit trail still add up; the purge's own audit entry holds no personal data.

:func:`schedule` answers "what will be purged when" for the admin page, with the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func
from sqlmodel import Session, select

from portal import audit
from portal.models import Attempt, Booking, Candidate, ExamSession
from portal.rules import Msg

PURGED_NAME = audit.REDACTED
DEFAULT_RETENTION_DAYS = 365


def retention() -> timedelta:
    """How long personal data is kept after the exam date (``PERSONAL_DATA_RETENTION_DAYS``)."""
    return timedelta(days=int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)))


@dataclass(frozen=True)
class Scheduled:
    candidate: Candidate
    last_exam: datetime | None
    purge_at: datetime


@dataclass(frozen=True)
class PlannedPurge:
    """A plugin's answer to "what will be purged when" (hook portal_retention_schedule)."""
    what: Msg
    purge_at: datetime
    rule: str = ""


def plugin_schedule(pm, organization_id: int, now: datetime) -> list[PlannedPurge]:
    items = [item for answer in pm.hook.portal_retention_schedule(organization_id=organization_id, now=now)
             for item in answer or []]
    return sorted(items, key=lambda i: i.purge_at)


def schedule(db: Session, organization_id: int | None = None, due_by: datetime | None = None) -> list[Scheduled]:
    """Every candidate not yet purged with the moment their personal data is due for purging
    (soonest first); ``due_by`` keeps only those due by then. One query, whatever the count."""
    last_exam = (select(Booking.candidate_id, func.max(ExamSession.end).label("last"))
                 .join(ExamSession, ExamSession.id == Booking.session_id).group_by(Booking.candidate_id).subquery())
    last_attempt = (select(Attempt.candidate_id, func.max(Attempt.end).label("last"))
                    .group_by(Attempt.candidate_id).subquery())
    query = (select(Candidate, last_exam.c.last, last_attempt.c.last)
             .outerjoin(last_exam, last_exam.c.candidate_id == Candidate.id)
             .outerjoin(last_attempt, last_attempt.c.candidate_id == Candidate.id)
             .where(Candidate.family_name != PURGED_NAME))
    if organization_id is not None:
        query = query.where(Candidate.organization_id == organization_id)
    keep = retention()
    items = []
    for candidate, exam_end, attempt_end in db.exec(query).all():
        last = max((t for t in (exam_end, attempt_end) if t is not None), default=None)
        purge_at = (last if last is not None else candidate.created_at) + keep
        if due_by is None or purge_at <= due_by:
            items.append(Scheduled(candidate, last, purge_at))
    return sorted(items, key=lambda s: (s.purge_at, s.candidate.id))


def purge_candidates(db: Session, now: datetime) -> int:
    """Blank the personal data of every candidate whose retention ended (idempotent)."""
    due = [item.candidate for item in schedule(db, due_by=now)]
    for candidate in due:
        candidate.family_name, candidate.given_name = PURGED_NAME, ""
        candidate.family_kana = candidate.given_kana = candidate.email = ""
        db.add(candidate)
        audit.record(db, candidate.organization_id, None, "purge_personal_data", "candidate", candidate.id, None,
                     {"retention_days": retention().days})
    audit.redact(db, "candidate", [c.id for c in due])
    return len(due)
