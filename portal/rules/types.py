"""The values that cross the plugin boundary: questions asked of a provider and its answers.

Plugins build these; the core renders them (JSON API, HTMX partials, stored deadlines).
Every answer carries ``rule`` (rule IDs from the rulebooks) and an ``explanation`` that
exists in Japanese and English, so the core never has to know a provider's wording.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping, Sequence

JST = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time. Japan has no daylight saving, so a fixed offset is exact."""

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Msg:
    """A sentence in both languages the portal speaks."""

    ja: str
    en: str

    def text(self, lang: str = "ja") -> str:
        return self.en if lang == "en" else self.ja

    def __add__(self, other: "Msg") -> "Msg":
        return Msg(self.ja + other.ja, (self.en + " " + other.en).strip())

    @staticmethod
    def join(parts: Sequence["Msg"]) -> "Msg":
        return Msg("".join(p.ja for p in parts), " ".join(p.en for p in parts))


def end_of_day(d: date) -> datetime:
    """23:59:59 JST of ``d``: the contract's moment for a date-only deadline."""
    return datetime.combine(d, time(23, 59, 59), JST)


def at_time(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), JST)


def jst(dt: datetime) -> datetime:
    """The same instant in Japan time (naive values are taken as Japan time)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=JST)
    return dt.astimezone(JST)


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Exam:
    """One entry of a provider's exam catalog."""

    code: str
    name: str
    price: int | None = None
    duration_minutes: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClosureRule:
    """Days a provider does not count as business days (年末年始, maintenance days…).

    ``yearly`` rules repeat every year on the month/day of ``start``..``end`` (a range
    may wrap over New Year, e.g. Dec 29 – Jan 3); the year of their dates is ignored.
    """

    start: date
    end: date
    label: Msg
    yearly: bool = False


@dataclass(frozen=True)
class ProviderSetting:
    """A per-organisation switch a provider offers (stored in the database)."""

    key: str
    default: Any
    label: Msg


@dataclass(frozen=True)
class Fact:
    """A fact the provider's rule calculator asks for: the request field ``name`` (a
    contract field such as ``booked_at``, or the provider's own), its label in both
    languages and its ``kind``, which decides the form input and how the value is sent:
    ``datetime`` / ``date`` (ISO text), ``integer``, ``boolean``, ``text``, ``choice``
    (one of ``choices``: ``(value, label)`` pairs), ``payment`` (method, paid, amount),
    ``attempts`` (one previous attempt: start and outcome) and ``items`` (a number of
    candidates for the chosen exam, sent as ``[{"exam": …, "count": n}]``)."""

    name: str
    label: Msg
    kind: str = "text"
    choices: Sequence[tuple[str, Msg]] = ()


@dataclass(frozen=True)
class ProviderInfo:
    """How a provider plugin describes itself to the core (hook ``provider_info``)."""

    id: str
    name: Msg
    exams: Sequence[Exam]
    deadline_kinds: Sequence[str]
    closure_defaults: Sequence[ClosureRule] = ()
    settings: Sequence[ProviderSetting] = ()
    payment_methods: Sequence[str] = ()
    description: Msg | None = None
    #: Facts the rule calculator asks for (contract field names, see docs/plugins.md).
    calculator_facts: Sequence[str] = ("exam", "exam_start")
    #: Whether the core's generic booking pages (sessions, seats, change, cancel) apply.
    bookings: bool = False
    #: Endpoint (taking ``booking_id``) of the plugin's own page for a core ``Booking``, when
    #: it books on the core tables through its own pages (``bookings`` False).
    booking_endpoint: str | None = None
    #: Endpoint of the plugin's own catalog admin page, when it keeps its own catalog
    #: (hook ``provider_catalog``); the core's catalog page then links there.
    catalog_endpoint: str | None = None
    #: Facts of a booking this provider's rules need beyond the core's (IPA: voucher issue
    #: date …): the core's booking form asks for them, stores them with the booking and
    #: passes them to the policy and booking-decision hooks.
    booking_facts: Sequence["BookingFactSpec"] = ()
    #: Labels of the provider's words: its deadline kinds, payment methods and any other
    #: key it shows (``{"application": Msg("申込締切", "Application deadline")}``).
    vocabulary: Mapping[str, Msg] = field(default_factory=dict)
    #: The provider's own calculator facts (:class:`Fact`), or a contract fact with its own
    #: label; named in ``calculator_facts`` to be asked.
    facts: Sequence[Fact] = ()
    #: Deadline kinds that always fall on a business day of the provider's calendar (the
    #: conformance kit checks it); leave out kinds counted in calendar days.
    business_day_kinds: Sequence[str] = ()
    #: Valid request bodies of the rules API for this provider, by endpoint (``"quote"``,
    #: ``"policy"``, ``"retake"``, ``"deadlines"``): the conformance kit checks their answers'
    #: shapes and fuzzes from them; the docs can show them.
    examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def label(self, key: str) -> Msg | None:
        """The provider's label of one of its words (deadline kind, payment method …)."""
        return self.vocabulary.get(key)

    def exam(self, code: str | None) -> Exam | None:
        for exam in self.exams:
            if exam.code == code:
                return exam
        return None


@dataclass(frozen=True)
class BookingFactSpec:
    """A provider-declared fact of a booking, asked by the core's booking form.

    ``key`` names it in the stored booking and in :class:`PolicyFacts` (a field of that
    name, e.g. ``voucher_issued_on``, else ``PolicyFacts.raw[key]``); ``kind`` is
    ``"date"`` or ``"text"``. ``payment_methods`` / ``exams`` limit when it applies
    (empty: always); ``required`` makes the form refuse a booking without it."""

    key: str
    label: Msg
    kind: str = "date"
    payment_methods: Sequence[str] = ()
    exams: Sequence[str] = ()
    required: bool = False
    help: Msg | None = None

    def applies(self, exam: str | None, payment_method: str | None) -> bool:
        return ((not self.exams or exam in self.exams)
                and (not self.payment_methods or payment_method in self.payment_methods))


# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class DeadlineQuery:
    exam: str | None
    exam_start: datetime
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptFact:
    start: datetime
    end: datetime
    outcome: str  # "passed" | "failed" | "absent"


@dataclass(frozen=True)
class RetakeQuery:
    exam: str
    attempts: Sequence[AttemptFact]
    at: datetime


#: Payment methods paid after booking, at a convenience store or by Pay-easy (with a due date).
STORE_METHODS = ("convenience_store", "pay_easy")


@dataclass(frozen=True)
class Payment:
    method: str  # credit_card | convenience_store | pay_easy | voucher | invoice
    paid: bool
    amount: int | None = None
    due: datetime | None = None

    @property
    def unpaid_store(self) -> bool:
        """A convenience-store / Pay-easy fee not paid yet."""
        return self.method in STORE_METHODS and not self.paid


@dataclass(frozen=True)
class PolicyFacts:
    """The facts of one booking, as sent to the policy hook.

    A provider reads the facts its rules need through :meth:`need`, which raises a
    ``MissingFact`` (HTTP 400 naming the field) when the fact was not given.
    """

    at: datetime
    exam: str | None = None
    exam_start: datetime | None = None
    booked_at: datetime | None = None
    first_booked_at: datetime | None = None
    payment: Payment | None = None
    voucher_issued_on: date | None = None
    exemption_valid_until: date | None = None
    target_exam_start: datetime | None = None
    submitted: bool | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def need(self, name: str) -> Any:
        from portal.rules.errors import MissingFact

        value = getattr(self, name)
        if value is None:
            raise MissingFact(name)
        return value


@dataclass(frozen=True)
class QuoteQuery:
    """The quote request as sent; shapes differ per provider (see the contract)."""

    payload: Mapping[str, Any]


@dataclass(frozen=True)
class SessionFacts:
    """An exam session as the booking-decision hook sees it."""

    id: int | None
    exam: str
    start: datetime
    end: datetime
    venue: str = ""
    seats_left: int = 0


@dataclass(frozen=True)
class Sitting:
    """One of the candidate's bookings or recorded attempts of the same exam.

    ``outcome`` is ``passed`` / ``failed`` / ``absent`` when recorded, ``None`` when the
    exam is over (or still to come) and nothing was recorded."""

    start: datetime
    end: datetime
    outcome: str | None = None
    booking_id: int | None = None


@dataclass(frozen=True)
class BookingFacts:
    """What the booking-decision hook gets: the booking (or the booking asked for), its
    session and, for a change, the target session; the candidate's other sittings of the
    same exam; the provider-declared facts (``ProviderInfo.booking_facts``); and, for a
    change or cancel, the provider's own policy answer already consulted by the core."""

    at: datetime
    candidate_id: int | None
    exam: str
    session: SessionFacts
    payment: Payment
    status: str | None = None  # None for a new booking
    booking_id: int | None = None
    target: SessionFacts | None = None
    booked_at: datetime | None = None
    first_booked_at: datetime | None = None
    voucher_code: str | None = None
    #: Until when a cancelled booking's voucher may not be used again (PRM-CA-1), if any.
    voucher_locked_until: datetime | None = None
    provider_facts: Mapping[str, Any] = field(default_factory=dict)
    #: Recorded attempts and past or other active bookings of this exam (not this one).
    history: Sequence[Sitting] = ()
    policy: "PolicyDecision | None" = None
    outcome: str | None = None  # record_outcome: passed | failed | absent

    def fact(self, key: str) -> Any:
        return self.provider_facts.get(key)


@dataclass(frozen=True)
class BookingDecision:
    """A provider's (or a wrapping plugin's) answer to "may this transition happen?"."""

    allowed: bool
    rule: str
    explanation: Msg
    #: Allowed, but worth knowing (e.g. "once booked it can never be changed").
    notes: Sequence[Msg] = ()
    #: The form field a refusal is about (``voucher_code`` …); default: the session.
    field: str | None = None


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class SkippedDay:
    day: date
    reason: Msg


@dataclass(frozen=True)
class Deadline:
    kind: str
    at: datetime
    rule: str
    explanation: Msg


@dataclass(frozen=True)
class RetakeDecision:
    allowed: bool
    earliest: datetime | None
    rule: str
    explanation: Msg


@dataclass(frozen=True)
class QuoteLine:
    label: Msg
    unit_price: int
    count: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.count


@dataclass(frozen=True)
class Quote:
    lines: Sequence[QuoteLine]
    total: int
    rule: str
    explanation: Msg
    #: Provider-specific additions to the answer (e.g. ``fees_total``).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeDecision:
    allowed: bool
    until: datetime | None
    rule: str
    explanation: Msg
    requires: Sequence[str] = ()
    last_selectable_date: date | None = None


@dataclass(frozen=True)
class CancelDecision:
    allowed: bool
    until: datetime | None
    rule: str
    explanation: Msg
    refund: int | None = None
    voucher_reusable_at: datetime | None = None


@dataclass(frozen=True)
class LapseDecision:
    """A booking that ends by itself (e.g. unpaid past its payment due date)."""

    lapsed: bool
    at: datetime | None
    rule: str
    explanation: Msg


@dataclass(frozen=True)
class PolicyDecision:
    change: ChangeDecision
    cancel: CancelDecision
    lapse: LapseDecision | None = None


# --------------------------------------------------------------------------- stored items


@dataclass(frozen=True)
class DueItem:
    """A stored deadline of the organisation (dashboard, calendar, ICS feed)."""

    provider: str
    kind: str
    at: datetime
    rule: str
    explanation: Msg
    subject: str  # what it is about: "山田 太郎 — RUBY-SILVER", "2026-12-10 exam day"
    url: str
    uid: str  # stable identifier (ICS UID): "<provider>-<kind>-<record id>"


@dataclass(frozen=True)
class SessionItem:
    """An exam session / exam day of the organisation."""

    provider: str
    exam: str | None
    start: datetime
    end: datetime
    label: str
    url: str
    uid: str
    seats_left: int | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """A past attempt kept by a plugin (see hook ``provider_attempts``)."""

    exam: str
    start: datetime
    end: datetime
    outcome: str  # passed | failed | absent
