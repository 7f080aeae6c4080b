"""JSTC 技術英語能力検定 group exam as an exam-portal provider: hook implementations."""
from __future__ import annotations

from portal.plugins import hookimpl
from portal.rules import Msg, ProviderInfo, jst

from plugins.jstc_group import models  # noqa: F401  (registers the plugin's tables)
from plugins.jstc_group import rules
from plugins.jstc_group.calendar_items import due_items, session_items
from plugins.jstc_group.grades import GRADES
from plugins.jstc_group.sessions import published_session_on

PROVIDER_ID = "jstc_group"

INFO = ProviderInfo(
    id=PROVIDER_ID,
    name=Msg("JSTC 技術英語能力検定(団体受験)", "JSTC Technical English test (group)"),
    description=Msg("団体受験申込規定(JST-*): 実施経費、一括申込書、合格基準",
                    "Group application rules (JST-*): implementation expense, bulk form, pass marks"),
    exams=tuple(g.as_exam() for g in GRADES.values()),
    deadline_kinds=("application",),
    payment_methods=("invoice",),
    calculator_facts=("exam_start", "at", "submitted"),
)


@hookimpl
def provider_info():
    return INFO


@hookimpl
def provider_deadlines(ctx, query):
    """JST-AP-1: the application deadline when the exam date is a known session's."""
    if query.exam is not None:
        ctx.exam(query.exam)
    session = published_session_on(jst(query.exam_start).date())
    return [rules.application_deadline(session)] if session else []


@hookimpl
def provider_quote(ctx, query):
    return rules.quote(rules.examinee_counts(query.payload))


@hookimpl
def provider_policy(ctx, facts):
    session = published_session_on(jst(facts.exam_start).date()) if facts.exam_start else None
    return rules.policy(facts, session)


@hookimpl
def provider_due_items(ctx, organization_id, start, end):
    return due_items(ctx.provider.id, organization_id, start, end) if ctx.provider.id == PROVIDER_ID else []


@hookimpl
def provider_sessions(ctx, organization_id, start, end):
    return session_items(ctx.provider.id, organization_id, start, end) if ctx.provider.id == PROVIDER_ID else []


@hookimpl
def portal_blueprints():
    from plugins.jstc_group.views import bp
    return [bp]


@hookimpl
def provider_demo_data(ctx, organization_id, user_id):
    if ctx.provider.id != PROVIDER_ID:
        return
    from portal import db
    from plugins.jstc_group.demo import seed
    seed(db.session(), organization_id, user_id)


@hookimpl
def portal_housekeeping(now):
    """Examinees' names after the portal's retention period (no JST rule on retention)."""
    from portal import db
    from plugins.jstc_group import purge
    return [f"examinees purged of personal data: {purge.purge(db.session(), now)}"]


@hookimpl
def portal_retention_schedule(organization_id, now):
    from portal import db
    from plugins.jstc_group import purge
    return purge.schedule(db.session(), organization_id)
