"""ODY-PII: application personal data is deleted one month after the exam (manual 5.2.2,
別紙A 8), and each deletion is recorded (monthly record of 5.2.3).

「試験実施後 1 か月を経過した時点」: the month ends on the same date of the next month (clamped
to its last day: 01-31 → 02-28/29); the data is deleted from the following day on.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from portal.sdk import JST, Msg, PlannedPurge, audit, jst

from plugins.odyssey.models import OdysseyCandidate, OdysseyExamDay, OdysseyPurgeLog

PERSONAL_FIELDS = ("family_name", "given_name", "family_kana", "given_kana", "gender", "postal_code", "prefecture",
                   "city", "street", "phone", "employer", "employer_phone", "remarks")


def one_month_after(d: date) -> date:
    month = d.month % 12 + 1
    year = d.year + (1 if d.month == 12 else 0)
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def is_due(exam_date: date, today: date) -> bool:
    return today > one_month_after(exam_date)


def purge(db: Session, now: datetime) -> list[OdysseyPurgeLog]:
    """Blank the personal data of every exam day whose month has passed. Safe to run any
    number of times: a purged day is marked and skipped."""
    today = jst(now).date()
    logs = []
    days = db.exec(select(OdysseyExamDay).where(OdysseyExamDay.purged_at.is_(None),
                                                OdysseyExamDay.exam_date < today)).all()
    for day in days:
        if not is_due(day.exam_date, today):
            continue
        # Guarded on the day not being purged yet: of two racing runs, one purges and logs it.
        taken = db.execute(update(OdysseyExamDay).where(OdysseyExamDay.id == day.id, OdysseyExamDay.purged_at.is_(None))
                           .values(purged_at=now).execution_options(synchronize_session=False)).rowcount
        if not taken:
            continue
        set_committed_value(day, "purged_at", now)
        purged = db.execute(update(OdysseyCandidate)
                            .where(OdysseyCandidate.exam_day_id == day.id, OdysseyCandidate.purged.is_(False))
                            .values(purged=True, birth_date=None, **dict.fromkeys(PERSONAL_FIELDS, ""))
                            .execution_options(synchronize_session="fetch")).rowcount
        log = OdysseyPurgeLog(organization_id=day.organization_id, exam_day_id=day.id, exam_date=day.exam_date,
                              candidates_purged=purged, ran_at=now)
        db.add(log)
        db.flush()
        audit.record(db, day.organization_id, None, "purge_personal_data", "odyssey_exam_day", day.id, None,
                     {"exam_date": day.exam_date.isoformat(), "candidates_purged": purged, "rule": "ODY-PII"})
        logs.append(log)
    db.flush()
    return logs


def purge_at(exam_date: date) -> datetime:
    """The first moment the day's data is due: the day after the month ends (00:00 JST)."""
    return datetime.combine(one_month_after(exam_date) + timedelta(days=1), time(0), JST)


def schedule(db: Session, organization_id: int) -> list[PlannedPurge]:
    """Every exam day not yet purged, with its candidate count and purge moment (one query)."""
    count = func.count(OdysseyCandidate.id)
    rows = db.exec(select(OdysseyExamDay.exam_date, count)
                   .outerjoin(OdysseyCandidate, (OdysseyCandidate.exam_day_id == OdysseyExamDay.id)
                              & OdysseyCandidate.purged.is_(False))
                   .where(OdysseyExamDay.organization_id == organization_id, OdysseyExamDay.purged_at.is_(None))
                   .group_by(OdysseyExamDay.id, OdysseyExamDay.exam_date)).all()
    return [PlannedPurge(Msg(f"オデッセイ {d.isoformat()} の受験者{n}名の申込データ",
                             f"Odyssey {d.isoformat()}: application data of {n} candidates"), purge_at(d), "ODY-PII")
            for d, n in rows if n]
