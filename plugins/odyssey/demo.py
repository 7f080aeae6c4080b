"""Demo records for a new demo organisation (hook ``provider_demo_data``): the venue's
deposit and contract, a draft exam day about two weeks ahead with the manual's example
application ((学割)Office Word 2016 + Excel VBA Basic = 19,030 yen, 3.3.3) and a confirmed
afternoon exam day about four weeks ahead. Everything goes through ``services`` and the
candidate form's validator, so deadlines (ODY-DL-1..4, ODY-LA), states (ODY-ST) and the
audit trail are the ones an operator gets from the pages."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from portal.sdk import JST, Organization, RuleError, now_jst

from plugins.odyssey import services
from plugins.odyssey.fields import CandidateInput, validate
from plugins.odyssey.models import OdysseyExamDay

SCHOOL = "{school}"  # replaced by the organisation's name (勤務先(学校名), needed for 学割)

_ADDRESS = {"postal_code": "160-0023", "prefecture": "東京都", "city": "新宿区", "street": "西新宿 2-8-1"}
DRAFT_CANDIDATES = (
    {"family_name": "青木", "given_name": "さくら", "family_kana": "アオキ", "given_kana": "サクラ", "gender": "1",
     "birth_date": "2005/6/14", "phone": "090-1234-5678", "employer": SCHOOL, "candidate_type": "1",
     "subject1": "(学割)MOS-WORD-2016", **_ADDRESS},
    {"family_name": "井上", "given_name": "健", "family_kana": "イノウエ", "given_kana": "ケン", "gender": "0",
     "birth_date": "1990/11/3", "phone": "03-5321-1111", "employer": "株式会社デモ商事", "candidate_type": "2",
     "subject1": "VBA-EXCEL-BASIC", "postal_code": "100-0005", "prefecture": "東京都", "city": "千代田区",
     "street": "丸の内 1-9-1"},
)
CONFIRMED_CANDIDATES = (
    {"family_name": "上田", "given_name": "真理", "family_kana": "ウエダ", "given_kana": "マリ", "gender": "1",
     "birth_date": "1998/2/20", "employer": "", "candidate_type": "2", "subject1": "VBA-EXCEL-BASIC 1", **_ADDRESS},
    {"family_name": "木村", "given_name": "翔", "family_kana": "キムラ", "given_kana": "ショウ", "gender": "0",
     "birth_date": "2004/9/8", "employer": SCHOOL, "candidate_type": "1", "subject1": "MOS-WORD-2019 1 XX1400DEMO01",
     **_ADDRESS},
)


def _candidate(db: Session, org_id: int, school: str, raw: dict[str, str]) -> CandidateInput:
    """The candidate as the entry form / CSV validator reads it (same messages, same prices)."""
    cells = {k: (school if v == SCHOOL else v) for k, v in raw.items()}
    data, errors = validate(cells, services.subjects(db, org_id))
    if errors:
        raise services.FormErrors(errors)
    return data


def _exam_day(db: Session, ctx, org_id: int, user_id: int, earliest: date, at: time, now: datetime) -> OdysseyExamDay:
    """An exam day on the first business day from ``earliest`` (never on a 試験実施不可日, ODY-DL-3)."""
    day = ctx.calendar.business_day_on_or_after(earliest).day
    while True:
        try:
            return services.create_exam_day(db, ctx, org_id, user_id, datetime.combine(day, at, JST), now)
        except RuleError:
            day = ctx.calendar.business_days_after(day, 1).day
            if day > earliest + timedelta(days=30):
                raise


def seed(db: Session, org_id: int, user_id: int, now: datetime | None = None) -> None:
    now = now or now_jst()
    today = now.date()
    org = db.get(Organization, org_id)
    school = org.name if org else "デモ専門学校"
    # 残高照会 read today; two proctors; the contract renewed on the 1st of a month half a year ago.
    contract_start = (today.replace(day=1) - timedelta(days=150)).replace(day=1)
    services.update_venue(db, org_id, user_id, now, 30_000, 2, contract_start, "standard")
    ctx = services.rule_context(db, org_id)

    draft = _exam_day(db, ctx, org_id, user_id, today + timedelta(days=14), time(10, 0), now)
    for raw in DRAFT_CANDIDATES:
        services.add_candidate(db, org_id, user_id, draft, _candidate(db, org_id, school, raw), now)

    confirmed = _exam_day(db, ctx, org_id, user_id, today + timedelta(days=28), time(14, 0), now)
    for raw in CONFIRMED_CANDIDATES:
        services.add_candidate(db, org_id, user_id, confirmed, _candidate(db, org_id, school, raw), now)
    services.confirm(db, org_id, user_id, confirmed, now)
