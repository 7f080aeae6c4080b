"""The plugin contract of exam-portal. These docstrings are the plugin documentation.

A provider plugin is a module (or object) registered through the ``exam_portal``
entry-point group; it implements some of these hooks with ``@portal.sdk.hookimpl``.
The core knows no provider by name: everything it shows about a provider comes through
these hooks.

**One provider answers for itself.** The rule hooks (``provider_deadlines``,
``provider_quote``, ``provider_retake``, ``provider_policy``) are ``firstresult`` hooks.
The core calls them with only the asked provider's own plugin (and plugins that are not
providers) registered, so a provider's implementation never sees another provider's
questions, and may still check ``ctx.provider.id`` for clarity.

**Adjusting an answer.** A plugin that is not a provider (a venue's house rules, say) may
only wrap a rule hook, with ``@hookimpl(wrapper=True)``: it receives the provider's answer
from ``yield`` and returns the adjusted one, without touching the provider's code. A
non-provider plugin answering a rule hook itself stops start-up.

**Errors.** Raise :class:`portal.sdk.BadInput` / :class:`~portal.sdk.MissingFact` for
malformed or missing input (HTTP 400), :class:`~portal.sdk.UnknownExam` (404) for an exam
not in the catalog, :class:`~portal.sdk.RuleRefusal` (422) for input the rules refuse. Any
other exception is a bug of the plugin: the API answers ``502 provider_error``, a page an
error naming the provider, and the log names the plugin and its version.

Every answer carries ``rule`` (comma-separated rule IDs of ``shared/rulebooks/README.md``)
and an ``explanation`` (:class:`portal.rules.Msg`, Japanese and English) that names the days
skipped or the fact that decided it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from portal.providers import RuleContext
    from portal.recompute import DeadlineChange, PlanRecord
    from portal.rules import (
        AttemptRecord, BookingDecision, BookingFacts, Deadline, DeadlineQuery, DueItem, Exam, PolicyDecision, PolicyFacts, ProviderInfo,
        Quote, QuoteQuery, RetakeDecision, RetakeQuery, SessionItem,
    )

PROJECT = "exam_portal"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def provider_info() -> ProviderInfo:
    """Describe the provider this plugin implements.

    Return a :class:`portal.rules.ProviderInfo`: its ``id`` (the URL and API name, e.g.
    ``"acme"``), ``name`` (bilingual), exam catalog (``exams``), the deadline kinds it
    answers, its default closure days (seeded into the database, editable by an
    organisation admin), the settings it offers, its payment methods, the facts its rule
    calculator asks for, and whether the core's booking pages apply to it.

    Templates: a plugin package's ``templates/`` folder is added to the template search
    path automatically; keep its files under ``templates/<provider id>/``. If
    ``<provider id>/partials/panel.html`` exists it is the provider's panel on the brand
    switcher; ``<provider id>/partials/calculator_form.html`` replaces the generic
    calculator form.
    """


@hookspec(firstresult=True)
def provider_deadlines(ctx: RuleContext, query: DeadlineQuery) -> list[Deadline] | None:
    """The deadlines of an exam (or exam day / session) of this provider.

    ``query.exam`` is the exam code (may be ``None`` where the rule does not depend on
    it), ``query.exam_start`` an aware datetime. Use ``ctx.calendar`` (a
    :class:`portal.business_days.BusinessCalendar` holding this provider's closure days)
    for business-day counts and ``ctx.settings`` for per-organisation switches. Return a
    list of :class:`portal.rules.Deadline`, one per kind, each at the last moment the
    action is allowed (23:59:59 JST of the day when the rulebook gives no time).
    """


@hookspec(firstresult=True)
def provider_quote(ctx: RuleContext, query: QuoteQuery) -> Quote | None:
    """Price a request: ``query.payload`` is the request body as sent (its shape is the
    provider's; see ``shared/api-contract.md``). Return a :class:`portal.rules.Quote`
    whose ``total`` means what the contract says for this provider; put additional
    answer fields (``fees_total`` …) in ``extra``.
    """


@hookspec(firstresult=True)
def provider_retake(ctx: RuleContext, query: RetakeQuery) -> RetakeDecision | None:
    """Whether and from when a candidate may sit ``query.exam`` again, given their
    previous ``query.attempts`` (start, end, outcome ``passed``/``failed``/``absent``) and
    the moment ``query.at``. ``earliest`` is the first moment a new exam may start (even
    if already past); ``None`` with ``allowed=True`` means no wait; ``allowed=False`` means
    never under the rules, or "ask the provider" (say which in the explanation).
    """


@hookspec(firstresult=True)
def provider_policy(ctx: RuleContext, facts: PolicyFacts) -> PolicyDecision | None:
    """Change and cancellation policy for one booking at the moment ``facts.at``.

    Read the facts your rules need with ``facts.need("booked_at")`` (a missing one
    becomes a 400 naming the field) and ignore the rest. Return a
    :class:`portal.rules.PolicyDecision` with a ``change`` and a ``cancel`` decision, and
    ``lapse`` when the booking ends by itself (e.g. unpaid past its due date): the core
    expires stored bookings whose lapse says ``lapsed=True``.
    """


@hookspec(firstresult=True)
def provider_booking_decision(ctx: RuleContext, action: str, facts: BookingFacts) -> BookingDecision | None:
    """May this booking transition happen? Asked by the core before every transition of
    a booking kept in the core's tables (:mod:`portal.lifecycle`), and for each session
    the booking form and the change form offer (so the pages show why a date is refused).

    ``action`` is one of ``portal.lifecycle.ACTIONS``: ``book``, ``change``, ``cancel``,
    ``mark_paid``, ``refund_done``, ``lapse``, ``exam_over``, ``record_outcome``.
    ``facts`` (:class:`portal.rules.BookingFacts`) holds the booking or the booking asked
    for, its session (``facts.target`` for a change), the candidate's other sittings of
    the same exam (``facts.history``: recorded outcomes, and bookings not recorded yet
    with ``outcome=None``; empty for ``lapse``), the provider-declared facts (``ProviderInfo.booking_facts``,
    read with ``facts.fact(key)``), and for ``change`` / ``cancel`` the provider's own
    ``provider_policy`` answer, which the core has already applied.

    Return ``None`` when the provider has nothing against it, or a
    :class:`portal.rules.BookingDecision`: ``allowed=False`` refuses the transition with
    its ``rule`` (rule IDs) and bilingual ``explanation`` (application deadline passed,
    retake wait not over, a date past the last selectable date …); ``allowed=True`` may
    carry ``notes`` shown next to the session. A plugin that is not a provider may wrap
    this hook (``@hookimpl(wrapper=True)``) to refuse more (a venue's internal rule).
    Do not write to the database here: the answer must depend on the facts only.
    """


@hookspec
def provider_due_items(ctx: RuleContext, organization_id: int, start: datetime, end: datetime,
                       limit: int | None, kind: str | None) -> list[DueItem]:
    """The organisation's stored deadlines of this provider falling in ``[start, end)``.

    Collected from every plugin taking part in ``ctx.provider``'s questions (its own plugin
    and non-provider plugins such as the core's bookings); each returns a list of
    :class:`portal.rules.DueItem` (kind, moment, rule, explanation, what it is about and a
    link to act). The dashboard, the month calendar and the ICS feed are built from these,
    so a provider added later appears there without any change to those pages.

    ``limit`` (the dashboard's pages) and ``kind`` may be left out of an implementation's
    parameters: the core sorts, filters and cuts what it gets. A plugin with many records
    should take both and return only its first ``limit`` items of that ``kind`` (when
    given) in order of ``at``, from an indexed query.
    """


@hookspec
def provider_sessions(ctx: RuleContext, organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
    """The organisation's exam sessions / exam days of this provider starting in
    ``[start, end)`` as :class:`portal.rules.SessionItem` (exam code, start, end, label,
    link, seats left). Used by the calendar, the ICS feed and the retake planner ("which
    upcoming sessions may this candidate join").
    """


@hookspec
def provider_attempts(ctx: RuleContext, organization_id: int, candidate_id: int) -> list[AttemptRecord]:
    """A candidate's past attempts at this provider's exams that a plugin keeps itself
    (results entered in its own pages), as :class:`portal.rules.AttemptRecord`. The retake
    planner asks ``provider_retake`` with them.
    """


@hookspec(firstresult=True)
def provider_catalog(ctx: RuleContext, organization_id: int) -> list[Exam] | None:
    """The organisation's exam catalog of this provider, for a plugin that keeps its own
    (catalog table with its own admin page, named by ``ProviderInfo.catalog_endpoint``).
    Return ``None`` to use the core's: the plugin's catalog data with the organisation's
    edits made on the core's catalog page.
    """


@hookspec
def provider_recompute_plan(ctx: RuleContext, organization_id: int) -> list[DeadlineChange]:
    """The deadlines this plugin stores for ``ctx.provider``'s records that the rules in
    ``ctx`` would change: a list of :class:`portal.recompute.DeadlineChange` (``source`` names
    your record type, ``records`` the ids of the records sharing that change; ``old_at`` None
    for a deadline the rules now add, ``new_at`` None for one they drop). Compare with what is stored and return only what
    differs. **Write nothing and take no lock**: the same answer is shown as a what-if preview
    with a context whose closures or settings are not saved. Ask the provider once per
    distinct question, not once per record.
    """


@hookspec
def provider_recompute_computed(ctx: RuleContext, organization_id: int, current: RuleContext) -> list[DeadlineChange]:
    """The deadlines this plugin **computes** for ``ctx.provider``'s records whenever it shows
    them (dashboard, calendar, ICS feed, digests) instead of storing them, that the rules in
    ``ctx`` would move compared with ``current`` (the rules in force): a list of
    :class:`portal.recompute.DeadlineChange` as for ``provider_recompute_plan`` (your
    ``source`` and the uids of ``provider_recompute_records``), ``old_at`` computed under
    ``current``, ``new_at`` under ``ctx`` (None where the rules in ``ctx`` give none, e.g. a
    record no longer allowed). Only moves count: a change whose moment stays is dropped.

    The core marks them ``computed``: the what-if preview lists and counts them with the
    stored ones, the save checks them as part of the plan the admin saw and records them in
    its audit count and for the reminder digests, and they are never passed to
    ``provider_recompute_apply`` (there is nothing to write). **Write nothing and take no
    lock**; ask the provider once per distinct question under each context, not once per record.
    """


@hookspec
def provider_recompute_apply(ctx: RuleContext, organization_id: int, changes: list[DeadlineChange]) -> int:
    """Write the planned ``changes`` whose ``source`` is one of yours (ignore the others),
    with set-based statements (one per distinct new value or a bulk update, never one query
    per record). Runs inside the transaction that changed the rules, right after the plan;
    return how many stored deadlines were written.
    """


@hookspec
def provider_recompute_records(ctx: RuleContext, organization_id: int, records: list[tuple[str, int]]) -> list[PlanRecord]:
    """Describe the ``records`` of a plan — (source, record id) pairs — whose source is one
    of yours, for people: a :class:`portal.recompute.PlanRecord` each (what kind of record, who or what —
    the candidate, the exam day —, the exam, a link, and the DueItem uid of its deadlines).
    The what-if preview lists moved deadlines with them and the reminder digests match the
    moves to their items by the uid. Read only; one query for all the ids, not one per record.
    """


@hookspec
def provider_recompute(ctx: RuleContext, organization_id: int) -> int:
    """One-step alternative to the two hooks above for a plugin that cannot plan (its
    changes then do not appear in previews): recompute the deadlines this provider's
    records store because the organisation's closure days, settings or catalog changed
    (``ctx`` already holds the new ones). Runs inside the transaction that made the change;
    return how many records were updated.
    """


@hookspec
def provider_demo_data(ctx: RuleContext, organization_id: int, user_id: int) -> None:
    """Add this provider's demo records to a new demo organisation (``make run``): a few
    exam days / sessions / bookings with deadlines in the coming weeks, so that every page
    shows something. Runs once, inside the seeding transaction (``portal.db.session()``).
    """


@hookspec
def portal_housekeeping(now: datetime) -> list[str]:
    """Periodic work, run from cron by ``flask --app portal housekeeping``: expire lapsed
    records, advance states the clock changes, purge personal data whose retention ended.
    Must be safe to run any number of times. Each plugin's implementation runs in its own
    transaction (``portal.db.session()``); return one line per thing done, for the log.
    """


@hookspec
def portal_retention_schedule(organization_id: int, now: datetime) -> list[Any]:
    """What personal data of ``organization_id`` this plugin's housekeeping will purge, and
    when, for the admin page 個人データの削除予定: a list of
    :class:`portal.sdk.PlannedPurge` (what, when, rule ID). Read through
    ``portal.sdk.db.session()`` with a fixed number of queries, whatever the count.
    """


@hookspec
def portal_audit_labels() -> dict[str, Any]:
    """How the audit log names this plugin's records: a dict with any of ``actions``,
    ``entities`` and ``fields`` (key → translated label, e.g. ``lazy_gettext``) and
    ``links`` (entity → function of the record id returning its URL). Keys the plugin
    does not name are shown as they are.
    """


@hookspec
def portal_blueprints() -> list[Any]:
    """Flask blueprints a plugin adds (provider-specific pages such as a venue workflow).

    Return a list of :class:`flask.Blueprint`. They are registered at start-up; their
    views must use the core's ``login_required`` and organisation scoping for anything
    that touches stored data. ``flask_login.current_user`` is a read-only snapshot of the
    signed-in user (``id``, ``organization_id``, ``email``, ``name``, ``role``,
    ``is_admin``; :class:`portal.auth.SignedInUser`): load the ``User`` row to change it.
    """
