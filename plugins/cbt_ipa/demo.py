"""Demo records for a new demo organisation (hook ``provider_demo_data``): FE and SG
sessions in the coming weeks and three bookings, made through the core's booking
lifecycle so that the change deadlines (IPA-CH-1), the IPA facts and the audit trail are
the ones an operator gets from the pages."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from portal.sdk import (
    JST, Candidate, ExamSession, RuleContext, audit, bookings as core, end_of_day, now_jst, same_date_years_later,
)

from plugins.cbt_ipa.catalog import FE, SG

SHINJUKU = "CBTテストセンター 新宿会場"
SHIBUYA = "CBTテストセンター 渋谷会場"

#: (exam, days from today, start time, venue, seats)
SESSIONS = (
    (FE, 7, time(13, 0), SHINJUKU, 4),
    (SG, 10, time(10, 0), SHINJUKU, 3),
    (FE, 14, time(10, 0), SHIBUYA, 6),
    (FE, 21, time(10, 0), SHINJUKU, 6),
    (SG, 24, time(14, 0), SHIBUYA, 5),
    (FE, 35, time(13, 0), SHIBUYA, 6),
)
DEMO_CANDIDATES = (("山田", "太郎", "ヤマダ", "タロウ"), ("佐藤", "花子", "サトウ", "ハナコ"),
                   ("鈴木", "一郎", "スズキ", "イチロウ"))


def _candidates(db: Session, organization_id: int) -> list[Candidate]:
    """The organisation's first three candidates, created if there are fewer."""
    rows = list(db.exec(select(Candidate).where(Candidate.organization_id == organization_id)
                        .order_by(Candidate.id).limit(len(DEMO_CANDIDATES))).all())
    for family, given, family_kana, given_kana in DEMO_CANDIDATES[len(rows):]:
        row = Candidate(organization_id=organization_id, family_name=family, given_name=given,
                        family_kana=family_kana, given_kana=given_kana)
        db.add(row)
        rows.append(row)
    db.flush()
    return rows


def _session(db: Session, organization_id: int, user_id: int, exam, start: datetime, venue: str,
             seats: int) -> ExamSession:
    # The end time is computed from the catalog: FE 90 + 10 + 100 min, SG 120 min.
    row = ExamSession(organization_id=organization_id, provider="cbt_ipa", exam=exam.code, venue=venue, start=start,
                      end=start + timedelta(minutes=exam.duration_minutes or 0), capacity=seats)
    db.add(row)
    db.flush()
    audit.record(db, organization_id, user_id, "create", "exam_session", row.id, None, audit.snapshot(row))
    return row


def seed(db: Session, ctx: RuleContext, organization_id: int, user_id: int, now: datetime | None = None) -> None:
    now = now or now_jst()
    today = now.date()
    sessions = [_session(db, organization_id, user_id, ctx.exam(code), datetime.combine(today + timedelta(days=days), at, JST),
                         venue, seats)
                for code, days, at, venue, seats in SESSIONS]
    fe_14, sg_10, fe_21 = sessions[2], sessions[1], sessions[3]
    taro, hanako, ichiro = _candidates(db, organization_id)
    voucher_issued: date = today - timedelta(days=45)
    plans = (
        # Paid by credit card.
        (taro, fe_14, "credit_card", True, None, None, {}),
        # Convenience store, not paid yet: void unless paid by the due date (IPA-PAY).
        (hanako, sg_10, "convenience_store", False, end_of_day(today + timedelta(days=3)), None, {}),
        # Voucher: the one-year limit counts from its issue date (IPA-CH-2).
        (ichiro, fe_21, "voucher", True, None, "IPA-DEMO-0001",
         {"voucher_issued_on": voucher_issued.isoformat(),
          "voucher_expires_on": same_date_years_later(voucher_issued).isoformat()}),
    )
    for candidate, exam_session, method, paid, due, voucher_code, facts in plans:
        core.book(db, organization_id, user_id, core.NewBooking(
            candidate_id=candidate.id, session_id=exam_session.id, payment_method=method, paid=paid,
            amount=ctx.exam(exam_session.exam).price, payment_due_at=due, voucher_code=voucher_code,
            provider_facts=facts), at=now)
