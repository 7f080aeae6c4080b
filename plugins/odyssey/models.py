"""The Odyssey plugin's tables (prefix ``odyssey_``), each scoped by ``organization_id``.

- ``odyssey_subject``: the organisation's editable copy of the catalog (試験科目一覧).
- ``odyssey_venue``: the venue's contract year, deposit balance and proctor count.
- ``odyssey_exam_day``: one 試験実施日 with its state (ODY-ST).
- ``odyssey_candidate`` / ``odyssey_application_test``: the application (CSV columns A–T) and its
  tests (subject, price kind, 時限, ticket, the prices snapshotted when entered). Personal data
  lives only in ``odyssey_candidate`` and is blanked by the purge (ODY-PII).
- ``odyssey_import``: one CSV import per exam day (ODY-CSV 注意1).
- ``odyssey_purge_log``: what each purge run did (ODY-PII, monthly record of 5.2.3).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.sdk.db import AwareDateTime, utcnow
from portal.sdk import watch


@watch  # the organisation's Odyssey catalog: an edit changes the rules version (portal.rule_context)
class OdysseySubject(SQLModel, table=True):
    __tablename__ = "odyssey_subject"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    code: str = Field(max_length=50)
    name: str = Field(max_length=200)
    family: str = Field(max_length=30)
    price_general: Optional[int] = None
    price_student: Optional[int] = None
    price_student_or_teacher: Optional[int] = None
    price_member: Optional[int] = None
    price_certificate_holder: Optional[int] = None
    commission: Optional[int] = None
    voucher_commission: Optional[int] = None
    active: bool = True


class OdysseyVenue(SQLModel, table=True):
    __tablename__ = "odyssey_venue"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    #: 預け金残高 as last read on 残高照会 (refreshed daily at 19:00 by Odyssey, 3.3.5).
    deposit_balance: int = 0
    balance_updated_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    contract_start: Optional[date] = None
    #: standard | exempt_scope (only ACPro/Swift/ITS/MCE/MSFUND/Odyssey CBT) | school_program (GRA/ITA/HP)
    contract_kind: str = Field(default="standard", max_length=20)
    proctor_count: int = 1


class OdysseyExamDay(SQLModel, table=True):
    __tablename__ = "odyssey_exam_day"
    __table_args__ = (UniqueConstraint("organization_id", "exam_date"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    exam_date: date = Field(index=True)
    exam_start: datetime = Field(sa_type=AwareDateTime)
    #: draft | confirmed | exam_day | results_due | results_entered | completed | expired
    state: str = Field(default="draft", max_length=20, index=True)
    application_deadline: datetime = Field(sa_type=AwareDateTime)
    confirmed_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    results_entered_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    completed_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    #: none | requested | approved | refused (ODY-DL-4)
    self_exam_status: str = Field(default="none", max_length=20)
    self_exam_requested_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    purged_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class OdysseyImport(SQLModel, table=True):
    __tablename__ = "odyssey_import"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    exam_day_id: int = Field(foreign_key="odyssey_exam_day.id", unique=True)
    filename: str = Field(default="", max_length=255)
    encoding: str = Field(max_length=20)
    rows: int
    imported_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class OdysseyCandidate(SQLModel, table=True):
    __tablename__ = "odyssey_candidate"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    exam_day_id: int = Field(foreign_key="odyssey_exam_day.id", index=True)
    import_id: Optional[int] = Field(default=None, foreign_key="odyssey_import.id", index=True)
    family_name: str = Field(default="", max_length=100)
    given_name: str = Field(default="", max_length=100)
    family_kana: str = Field(default="", max_length=100)
    given_kana: str = Field(default="", max_length=100)
    gender: str = Field(default="", max_length=1)
    birth_date: Optional[date] = None
    postal_code: str = Field(default="", max_length=8)
    prefecture: str = Field(default="", max_length=10)
    city: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    employer: str = Field(default="", max_length=200)
    employer_phone: str = Field(default="", max_length=20)
    remarks: str = Field(default="", max_length=500)
    candidate_type: int = 1
    self_exam: bool = False
    late_addition: bool = False
    purged: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    @property
    def display_name(self) -> str:
        return f"{self.family_name} {self.given_name}"


class OdysseyApplicationTest(SQLModel, table=True):
    __tablename__ = "odyssey_application_test"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    exam_day_id: int = Field(foreign_key="odyssey_exam_day.id", index=True)
    candidate_id: int = Field(foreign_key="odyssey_candidate.id", index=True)
    subject_code: str = Field(max_length=50)
    subject_name: str = Field(max_length=200)
    family: str = Field(max_length=30)
    price_kind: str = Field(max_length=20)
    period: str = Field(default="", max_length=2)
    ticket: str = Field(default="", max_length=50)
    fee: int = 0
    commission: int = 0
    voucher_commission: Optional[int] = None
    late_addition: bool = False
    #: passed | failed | absent, once results are entered
    outcome: Optional[str] = Field(default=None, max_length=10)


class OdysseyPurgeLog(SQLModel, table=True):
    __tablename__ = "odyssey_purge_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    exam_day_id: int = Field(foreign_key="odyssey_exam_day.id", index=True)
    exam_date: date
    candidates_purged: int
    ran_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
