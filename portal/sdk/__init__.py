"""``portal.sdk``: the one module a provider plugin imports.

Everything here is the stable surface of exam-portal for plugin authors, documented name
by name in ``docs/plugins.md`` ("SDK reference"; a test fails when an exported name has no
entry there). Anything else under ``portal`` may change without notice; a bundled plugin
imports nothing else (a test checks that too).

Flat names: the hook marker, the rule value types and errors, the business-day calendar,
the conflict helpers, the core's tables a plugin reads or books on, the web helpers.
Submodules group the services: ``portal.sdk.db``, ``audit``, ``htmx``, ``bookings``, ``parse``,
``whatif``, ``exports``
(``from portal.sdk import db`` then ``db.session()``, or ``from portal.sdk.parse import items_list``).
"""
from __future__ import annotations

from flask_login import login_required

from portal.auth import require_admin
from portal.cells import formula_safe, formula_safe_row, from_cell
from portal.inputs import has_control_characters, int_arg
from portal.redirects import safe_next
from portal.retention import PlannedPurge, retention
from portal.business_days import BusinessCalendar, Shift, format_day, weekday_ja
from portal.db import AwareDateTime, utcnow
from portal.guard import Conflict, guarded, register_constraint, status_of
from portal.i18n import Translator, plugin_translator, request_language
from portal.models import Attempt, AuditEvent, Booking, BookingDeadline, Candidate, ExamSession, Organization, User
from portal.plugins import hookimpl
from portal.providers import Providers, RuleContext
from portal.providers import current as providers
from portal.rules import (
    JST, STORE_METHODS, AttemptFact, AttemptRecord, BadInput, BookingDecision, BookingFacts, BookingFactSpec,
    CancelDecision, ChangeDecision, ClosureRule, Deadline,
    DeadlineQuery, DueItem, Exam, Fact, LapseDecision, MissingFact, Msg, Payment, PolicyDecision, PolicyFacts,
    ProviderInfo, ProviderSetting, Quote, QuoteLine, QuoteQuery, RetakeDecision, RetakeQuery, RuleError, RuleRefusal,
    SessionFacts, SessionItem, Sitting, SkippedDay, UnknownExam, UnknownProvider, at_time, end_of_day, jst,
)
from portal.rules import parse as _parse
from portal.recompute import DeadlineChange, PlanRecord
from portal.rule_context import per_rules_version, watch
from portal.sdk import audit, bookings, db, exports, htmx, parse, whatif
from portal.rules.dates import same_date_years_later
from portal.scoping import get_or_404, org_id, scoped
from portal.web.conflicts import conflict_response
from portal.web.forms import datetime_local, int_field


now_jst = _parse.now_jst

SUBMODULES = ("db", "audit", "htmx", "bookings", "parse", "whatif", "exports")

__all__ = [
    # plugin wiring
    "hookimpl", "RuleContext", "Providers", "providers", "plugin_translator", "Translator", "request_language",
    # rule values and errors
    "JST", "STORE_METHODS", "AttemptFact", "AttemptRecord", "BadInput", "BookingDecision", "BookingFacts",
    "BookingFactSpec", "CancelDecision", "ChangeDecision",
    "ClosureRule", "Deadline", "DeadlineQuery", "DueItem", "Exam", "Fact", "LapseDecision", "MissingFact", "Msg",
    "Payment", "PolicyDecision", "PolicyFacts", "ProviderInfo", "ProviderSetting", "Quote", "QuoteLine", "QuoteQuery",
    "RetakeDecision", "RetakeQuery", "RuleError", "RuleRefusal", "SessionFacts", "SessionItem", "Sitting", "SkippedDay", "UnknownExam",
    "UnknownProvider", "at_time", "end_of_day", "jst", "now_jst", "same_date_years_later",
    # calendar
    "BusinessCalendar", "Shift", "format_day", "weekday_ja",
    # concurrency
    "Conflict", "guarded", "register_constraint", "status_of", "conflict_response",
    # stored deadlines a plugin keeps: recompute plans, rules version
    "DeadlineChange", "PlanRecord", "watch", "per_rules_version",
    # personal data retention (hook portal_retention_schedule)
    "PlannedPurge", "retention",
    # input and spreadsheet safety
    "formula_safe", "formula_safe_row", "from_cell", "has_control_characters", "int_arg", "safe_next",
    # core tables
    "Attempt", "AuditEvent", "Booking", "BookingDeadline", "Candidate", "ExamSession", "Organization", "User",
    "AwareDateTime", "utcnow",
    # web
    "login_required", "require_admin", "org_id", "scoped", "get_or_404", "datetime_local", "int_field",
    # service submodules
    *SUBMODULES,
]
