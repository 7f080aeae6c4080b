"""``portal.sdk``: the one module a provider plugin imports.

Everything here is the stable surface of exam-portal for plugin authors, documented name
by name in ``docs/plugins.md`` ("SDK reference"; a test fails when an exported name has no
entry there). Anything else under ``portal`` may change without notice; a bundled plugin
imports nothing else (a test checks that too).

Flat names: the hook marker, the rule value types and errors, the business-day calendar,
the conflict helpers, the core's tables a plugin reads or books on, the web helpers.
Namespaces group the services: ``db``, ``audit``, ``htmx``, ``bookings``, ``parse``.
"""
from __future__ import annotations

from types import SimpleNamespace

from flask_login import login_required

from portal import audit as _audit
from portal import bookings as _bookings
from portal import db as _db
from portal import htmx as _htmx
from portal.auth import require_admin
from portal.business_days import BusinessCalendar, Shift, format_day, weekday_ja
from portal.db import AwareDateTime, utcnow
from portal.guard import Conflict, guarded, register_constraint
from portal.i18n import Translator, plugin_translator
from portal.models import Attempt, AuditEvent, Booking, BookingDeadline, Candidate, ExamSession, Organization, User
from portal.plugins import hookimpl
from portal.providers import Providers, RuleContext
from portal.providers import current as providers
from portal.rules import (
    JST, STORE_METHODS, AttemptFact, AttemptRecord, BadInput, CancelDecision, ChangeDecision, ClosureRule, Deadline,
    DeadlineQuery, DueItem, Exam, Fact, LapseDecision, MissingFact, Msg, Payment, PolicyDecision, PolicyFacts,
    ProviderInfo, ProviderSetting, Quote, QuoteLine, QuoteQuery, RetakeDecision, RetakeQuery, RuleError, RuleRefusal,
    SessionItem, SkippedDay, UnknownExam, UnknownProvider, at_time, end_of_day, jst,
)
from portal.rules import parse as _parse
from portal.rules.dates import same_date_years_later
from portal.scoping import get_or_404, org_id, scoped
from portal.web.forms import datetime_local, int_field


class Namespace(SimpleNamespace):
    """A group of SDK functions (``sdk.db.session()``); ``members()`` lists them."""

    def members(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


db = Namespace(
    _doc="Database sessions: one request-scoped session, transactions that translate lost races.",
    session=_db.session, transaction=_db.transaction, AwareDateTime=AwareDateTime, utcnow=utcnow,
)
audit = Namespace(
    _doc="The audit log: every change is recorded in its transaction with the user who made it.",
    record=_audit.record, snapshot=_audit.snapshot,
)
htmx = Namespace(
    _doc="htmx responses: a partial for htmx requests, the full page otherwise (Vary: HX-Request).",
    render=_htmx.render, is_htmx=_htmx.is_htmx, redirect=_htmx.redirect, details=_htmx.details,
)
bookings = Namespace(
    _doc="The core's booking lifecycle (sessions, seats, stored deadlines, change, cancel, lapse).",
    ACTIVE=_bookings.ACTIVE, NewBooking=_bookings.NewBooking, SeatTaken=_bookings.SeatTaken,
    RefundAccountInput=_bookings.RefundAccountInput, org_context=_bookings.org_context,
    closure_rules=_bookings.closure_rules, settings=_bookings.settings, catalog=_bookings.catalog,
    book=_bookings.book, change=_bookings.change, cancel=_bookings.cancel, mark_paid=_bookings.mark_paid,
    complete_refund=_bookings.complete_refund, take_seat=_bookings.take_seat, release_seat=_bookings.release_seat,
    store_deadlines=_bookings.store_deadlines, recompute_deadlines=_bookings.recompute_deadlines,
    facts_for=_bookings.facts_for, policy_for=_bookings.policy_for, expire_lapsed=_bookings.expire_lapsed,
    active_bookings=_bookings.active_bookings,
)
parse = Namespace(
    _doc="Request parsing with the contract's error messages (a bad value is a 400 naming the field).",
    datetime_value=_parse.datetime_value, date_value=_parse.date_value, bool_value=_parse.bool_value,
    int_value=_parse.int_value, positive_int=_parse.positive_int, string_value=_parse.string_value,
    mapping_value=_parse.mapping_value, items_list=_parse.items_list, payment_value=_parse.payment_value,
    attempts_list=_parse.attempts_list, now_jst=_parse.now_jst,
)
now_jst = _parse.now_jst

NAMESPACES = ("db", "audit", "htmx", "bookings", "parse")

__all__ = [
    # plugin wiring
    "hookimpl", "RuleContext", "Providers", "providers", "plugin_translator", "Translator",
    # rule values and errors
    "JST", "STORE_METHODS", "AttemptFact", "AttemptRecord", "BadInput", "CancelDecision", "ChangeDecision",
    "ClosureRule", "Deadline", "DeadlineQuery", "DueItem", "Exam", "Fact", "LapseDecision", "MissingFact", "Msg",
    "Payment", "PolicyDecision", "PolicyFacts", "ProviderInfo", "ProviderSetting", "Quote", "QuoteLine", "QuoteQuery",
    "RetakeDecision", "RetakeQuery", "RuleError", "RuleRefusal", "SessionItem", "SkippedDay", "UnknownExam",
    "UnknownProvider", "at_time", "end_of_day", "jst", "now_jst", "same_date_years_later",
    # calendar
    "BusinessCalendar", "Shift", "format_day", "weekday_ja",
    # concurrency
    "Conflict", "guarded", "register_constraint",
    # core tables
    "Attempt", "AuditEvent", "Booking", "BookingDeadline", "Candidate", "ExamSession", "Organization", "User",
    "AwareDateTime", "utcnow",
    # web
    "login_required", "require_admin", "org_id", "scoped", "get_or_404", "datetime_local", "int_field",
    # service namespaces
    *NAMESPACES,
]
