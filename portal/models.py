"""Core tables. Every row that belongs to an organisation carries ``organization_id`` and
is read only through queries scoped to the signed-in user's organisation
(:mod:`portal.scoping`). Plugin tables live in the plugins, apart from these."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.db import AwareDateTime, utcnow


class Organization(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: Changes in the same transaction as any change of the organisation's rules (closure
    #: days, settings, catalogs, brands in use): every process's cached rule contexts are
    #: keyed by it (:mod:`portal.rule_context`).
    rules_version: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=300)
    role: str = Field(default="staff", max_length=20)  # "admin" | "staff"
    active: bool = True

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Candidate(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    family_name: str = Field(max_length=100)
    given_name: str = Field(max_length=100)
    family_kana: str = Field(default="", max_length=100)
    given_kana: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    @property
    def display_name(self) -> str:
        return f"{self.family_name} {self.given_name}"


#: Booking states that hold a seat (see :mod:`portal.lifecycle` for the whole machine).
ACTIVE_STATUSES = ("booked",)
#: Booking states in which the booking's voucher number counts as used.
VOUCHER_HOLDING_STATUSES = ("booked", "exam_over", "attended", "absent")


def _in(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


ACTIVE_WHERE = text(_in(ACTIVE_STATUSES))
VOUCHER_WHERE = text(_in(VOUCHER_HOLDING_STATUSES) + " AND voucher_code IS NOT NULL")


class ExamSession(SQLModel, table=True):
    __tablename__ = "exam_session"
    #: The last line against overbooking; on SQLite enforced by triggers of the same name
    #: (see the ``booking_lifecycle`` migration).
    __table_args__ = (CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="ck_exam_session_seats"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    provider: str = Field(max_length=50, index=True)
    exam: str = Field(max_length=50)
    venue: str = Field(max_length=200)
    start: datetime = Field(sa_type=AwareDateTime, index=True)
    end: datetime = Field(sa_type=AwareDateTime)
    capacity: int = Field(ge=0)
    #: Seats taken, changed only by a conditional UPDATE so that two operators racing
    #: for the last seat cannot both get it (see portal.bookings.take_seat).
    seats_taken: int = 0

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)


class Booking(SQLModel, table=True):
    __table_args__ = (
        # At most one active booking of a candidate in a session (a double-clicked form).
        Index("uq_booking_active_candidate_session", "candidate_id", "session_id", unique=True,
              sqlite_where=ACTIVE_WHERE, postgresql_where=ACTIVE_WHERE),
        # At most one booking holding a voucher number per organisation and provider.
        Index("uq_booking_voucher_in_use", "organization_id", "provider", "voucher_code", unique=True,
              sqlite_where=VOUCHER_WHERE, postgresql_where=VOUCHER_WHERE),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    session_id: int = Field(foreign_key="exam_session.id", index=True)
    provider: str = Field(max_length=50, index=True)
    exam: str = Field(max_length=50)
    payment_method: str = Field(max_length=30)
    paid: bool = False
    amount: Optional[int] = None
    payment_due_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime, index=True)
    booked_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    first_booked_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    voucher_code: Optional[str] = Field(default=None, max_length=50)
    #: A state of portal.lifecycle.STATES: booked | refund_pending | cancelled | expired |
    #: exam_over | attended | absent. Changed only by a guarded UPDATE (portal.lifecycle).
    status: str = Field(default="booked", max_length=20, index=True)
    cancelled_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    refund_amount: Optional[int] = None
    voucher_reusable_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    needs_reauthorization: bool = False
    #: The earliest of the stored deadlines, so lists can sort and filter on it.
    next_deadline_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime, index=True)
    #: The provider-declared facts (ProviderInfo.booking_facts), ISO dates as strings.
    provider_facts: Optional[dict[str, Any]] = Field(default_factory=dict, sa_type=JSON)


class BookingDeadline(SQLModel, table=True):
    """A deadline computed by the provider's hook when the booking was made or changed."""

    __tablename__ = "booking_deadline"
    #: (organization_id, at) serves the dashboard's first page: the organisation's next deadlines.
    __table_args__ = (UniqueConstraint("booking_id", "kind"),
                      Index("ix_booking_deadline_organization_id_at", "organization_id", "at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    kind: str = Field(max_length=40)
    at: datetime = Field(sa_type=AwareDateTime, index=True)
    rule: str = Field(max_length=200)
    explanation_ja: str = Field(default="", max_length=2000)
    explanation_en: str = Field(default="", max_length=2000)


class RefundAccount(SQLModel, table=True):
    """Where a refund goes (Zengin rules). Personal data: stored encrypted (``sealed``, see
    portal.crypto: bank code, branch code, account type, number and holder), shown masked,
    deleted once the refund is done."""

    __tablename__ = "refund_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    sealed: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class Attempt(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    provider: str = Field(max_length=50)
    exam: str = Field(max_length=50)
    start: datetime = Field(sa_type=AwareDateTime)
    end: datetime = Field(sa_type=AwareDateTime)
    outcome: str = Field(max_length=10)  # passed | failed | absent
    #: The core booking this attempt was sat on, if any (recorded by portal.lifecycle).
    booking_id: Optional[int] = Field(default=None, foreign_key="booking.id", index=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    action: str = Field(max_length=50)
    entity: str = Field(max_length=50)
    entity_id: Optional[int] = None
    before: Optional[dict[str, Any]] = Field(default=None, sa_type=JSON)
    after: Optional[dict[str, Any]] = Field(default=None, sa_type=JSON)


class ClosureDay(SQLModel, table=True):
    """A provider's closure days for one organisation (seeded from the plugin defaults)."""

    __tablename__ = "closure_day"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    provider: str = Field(max_length=50)
    start_date: date
    end_date: date
    yearly: bool = False
    label_ja: str = Field(max_length=200)
    label_en: str = Field(default="", max_length=200)


class ProviderSettingValue(SQLModel, table=True):
    __tablename__ = "provider_setting"
    __table_args__ = (UniqueConstraint("organization_id", "provider", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    provider: str = Field(max_length=50)
    key: str = Field(max_length=100)
    value: Any = Field(default=None, sa_type=JSON)


class CalendarFeed(SQLModel, table=True):
    """A private ICS URL of an organisation; revoked by setting ``revoked_at``.
    Only a hash of the secret token is stored."""

    __tablename__ = "calendar_feed"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    #: Who created it: the feed's alarms and language follow their reminder preference.
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)


class CatalogEntry(SQLModel, table=True):
    """An organisation's edit of a provider's exam catalog (name, price, duration), or an
    exam it added. The plugin's catalog data stays the default."""

    __tablename__ = "catalog_entry"
    __table_args__ = (UniqueConstraint("organization_id", "provider", "code"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    provider: str = Field(max_length=50)
    code: str = Field(max_length=50)
    name: str = Field(max_length=200)
    price: Optional[int] = None
    duration_minutes: Optional[int] = None


class ReminderPreference(SQLModel, table=True):
    """A user's deadline reminders: which brands and kinds, how many business days ahead,
    in which language. Also gives the alarms of the ICS feed the user created."""

    __tablename__ = "reminder_preference"
    __table_args__ = (CheckConstraint("days_ahead >= 1 AND days_ahead <= 20", name="ck_reminder_days_ahead"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    enabled: bool = False
    providers: list[str] = Field(default_factory=list, sa_type=JSON)  # empty: every brand in use
    kinds: list[str] = Field(default_factory=list, sa_type=JSON)  # empty: every kind
    days_ahead: int = 3
    language: str = Field(default="ja", max_length=5)


DIGEST_STATUSES = ("pending", "sending", "sent", "failed")


class ReminderDigest(SQLModel, table=True):
    """One reminder e-mail of one user for one day. The unique (user, day) makes a second
    run of the same day send nothing; ``status`` moves only by guarded updates
    (pending/failed → sending → sent/failed), so a failed send is retried, never lost."""

    __tablename__ = "reminder_digest"
    __table_args__ = (
        UniqueConstraint("user_id", "day", name="uq_reminder_digest_user_day"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="ck_reminder_digest_status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    day: date
    status: str = Field(default="pending", max_length=10, index=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=Text)
    items: int = 0
    #: deadlines it reports as moved by a rules change (marked, or moved out of its window)
    changed: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    claimed_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    sent_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)


class DeadlineMove(SQLModel, table=True):
    """A stored deadline that a change of the organisation's rules moved (closure days,
    settings, catalog): written with the save's audit entry, so that a reminder digest can
    mark the deadline as changed (old → new) for the operators whose reminders cover it."""

    __tablename__ = "deadline_move"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    provider: str = Field(max_length=50)
    #: the DueItem uid of the deadline (dashboard, calendar, ICS and digests use the same)
    uid: str = Field(max_length=200, index=True)
    record: str = Field(max_length=30)  # booking | exam_day | group_session …
    record_id: int
    kind: str = Field(max_length=40)
    old_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    new_at: Optional[datetime] = Field(default=None, sa_type=AwareDateTime)
    rule: str = Field(default="", max_length=200)
    moved_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)


class FormSubmission(SQLModel, table=True):
    """A one-time submission key of a state-changing form, stored in the transaction of
    the change it made: a second post of the same key finds it and answers with the
    first one's result instead of acting again (see :mod:`portal.submissions`)."""

    __tablename__ = "form_submission"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    key: str = Field(max_length=64, unique=True)
    action: str = Field(max_length=50)
    result_url: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
