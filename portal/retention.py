"""Personal data of the core's candidates is not kept forever: once every booking and
attempt of a candidate ended more than ``PERSONAL_DATA_RETENTION_DAYS`` ago (and none is
open), the candidate's name, kana and e-mail are blanked. The rows stay, so counts and the
audit trail still add up; the audit entry holds no personal data."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func
from sqlmodel import Session, select

from portal import audit
from portal.models import Attempt, Booking, Candidate, ExamSession

PURGED_NAME = "(削除済)"
DEFAULT_RETENTION_DAYS = 365


def retention() -> timedelta:
    return timedelta(days=int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)))


def purge_candidates(db: Session, now: datetime) -> int:
    cutoff = now - retention()
    last_exam = (select(Booking.candidate_id, func.max(ExamSession.end).label("last"))
                 .join(ExamSession, ExamSession.id == Booking.session_id).group_by(Booking.candidate_id).subquery())
    last_attempt = (select(Attempt.candidate_id, func.max(Attempt.end).label("last"))
                    .group_by(Attempt.candidate_id).subquery())
    open_booking = select(Booking.candidate_id).where(Booking.status == "booked")
    rows = db.exec(
        select(Candidate, last_exam.c.last, last_attempt.c.last)
        .outerjoin(last_exam, last_exam.c.candidate_id == Candidate.id)
        .outerjoin(last_attempt, last_attempt.c.candidate_id == Candidate.id)
        .where(Candidate.family_name != PURGED_NAME, Candidate.created_at < cutoff,
               Candidate.id.not_in(open_booking))
    ).all()
    purged = 0
    for candidate, exam_end, attempt_end in rows:
        latest = max((t for t in (exam_end, attempt_end) if t is not None), default=None)
        if latest is not None and latest >= cutoff:
            continue
        candidate.family_name, candidate.given_name = PURGED_NAME, ""
        candidate.family_kana = candidate.given_kana = candidate.email = ""
        db.add(candidate)
        audit.record(db, candidate.organization_id, None, "purge_personal_data", "candidate", candidate.id, None,
                     {"retention_days": retention().days})
        purged += 1
    return purged

