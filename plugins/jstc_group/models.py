"""The plugin's own tables (prefix ``jstc_group_``), each scoped by ``organization_id``."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.sdk.db import AwareDateTime, utcnow

from plugins.jstc_group.sessions import SessionDates


class JstcSession(SQLModel, table=True):
    """A session (開催回) the organisation runs: exam date and application period."""

    __tablename__ = "jstc_group_session"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=100)
    exam_date: date
    application_opens: date
    application_deadline: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    def dates(self) -> SessionDates:
        return SessionDates(self.name, self.exam_date, self.application_opens, self.application_deadline)


class JstcApplication(SQLModel, table=True):
    """One group's application for one session (JST-AP-1: one bulk form per session)."""

    __tablename__ = "jstc_group_application"
    __table_args__ = (UniqueConstraint("organization_id", "session_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    session_id: int = Field(foreign_key="jstc_group_session.id", index=True)
    responsible_person: str = Field(default="", max_length=100)
    venue: str = Field(default="", max_length=200)
    staff: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: Set once, when the bulk form was accepted: from then on the group is locked.
    applied_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    applied_by: Optional[int] = Field(default=None, foreign_key="user.id")
    form_filename: str = Field(default="", max_length=200)

    @property
    def locked(self) -> bool:
        return self.applied_at is not None


class JstcExaminee(SQLModel, table=True):
    """An examinee of a group: a draft row before the upload, the applied row after it."""

    __tablename__ = "jstc_group_examinee"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    application_id: int = Field(foreign_key="jstc_group_application.id", index=True)
    line: int = 0
    family_name: str = Field(max_length=50)
    given_name: str = Field(max_length=50)
    family_kana: str = Field(default="", max_length=50)
    given_kana: str = Field(default="", max_length=50)
    grade: str = Field(max_length=20)
    #: JST-AP-2: characters of the name outside JIS level 1/2 ("" when none).
    jis_flag: str = Field(default="", max_length=50)
    score: Optional[int] = None
    question_below_half: bool = False
    mark: Optional[str] = Field(default=None, max_length=30)

    @property
    def display_name(self) -> str:
        return f"{self.family_name} {self.given_name}"
