"""Personal data of a group's examinees is not kept forever: the jstc rules say nothing on
retention, so the portal's own period applies (``PERSONAL_DATA_RETENTION_DAYS``, counted
from the session's exam date, like the core's candidates). Then each examinee's name and
kana are blanked — grade, score and mark stay for the group's statistics — and the audit
snapshots about them are redacted (the event, who and when stay)."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import func
from sqlmodel import Session, select

from portal.sdk import audit
from portal.sdk import PlannedPurge, retention
from portal.sdk import JST, Msg, jst

from plugins.jstc_group.models import JstcApplication, JstcExaminee, JstcSession

REDACTED = audit.REDACTED


def purge_at(exam_date: date) -> datetime:
    return datetime.combine(exam_date, time(0), JST) + retention()


def _due_sessions(db: Session, organization_id: int | None = None):
    query = (select(JstcSession.id, JstcSession.name, JstcSession.exam_date, JstcSession.organization_id,
                    func.count(JstcExaminee.id))
             .join(JstcApplication, JstcApplication.session_id == JstcSession.id)
             .join(JstcExaminee, JstcExaminee.application_id == JstcApplication.id)
             .where(JstcExaminee.family_name != REDACTED)
             .group_by(JstcSession.id, JstcSession.name, JstcSession.exam_date, JstcSession.organization_id))
    if organization_id is not None:
        query = query.where(JstcSession.organization_id == organization_id)
    return db.exec(query).all()


def purge(db: Session, now: datetime) -> int:
    """Blank the names of every examinee whose session's retention ended (idempotent)."""
    today = jst(now)
    sessions = [sid for sid, _, exam_date, _, _ in _due_sessions(db) if purge_at(exam_date) <= today]
    if not sessions:
        return 0
    examinees = db.exec(select(JstcExaminee).join(JstcApplication, JstcApplication.id == JstcExaminee.application_id)
                        .where(JstcApplication.session_id.in_(sessions), JstcExaminee.family_name != REDACTED)).all()
    for examinee in examinees:
        examinee.family_name, examinee.given_name, examinee.family_kana, examinee.given_kana = REDACTED, "", "", ""
        examinee.jis_flag = ""
        db.add(examinee)
    audit.redact(db, "jstc_group_examinee", [e.id for e in examinees])
    return len(examinees)


def schedule(db: Session, organization_id: int) -> list[PlannedPurge]:
    return [PlannedPurge(Msg(f"技術英語能力検定 {name}({exam_date.isoformat()})の受験者{n}名の氏名",
                             f"JSTC {name} ({exam_date.isoformat()}): names of {n} examinees"), purge_at(exam_date))
            for _, name, exam_date, _, n in _due_sessions(db, organization_id)]
