"""JSTC 技術英語能力検定 group exam as an exam-portal provider: hook implementations."""
from __future__ import annotations

from portal.sdk import Msg, ProviderInfo, hookimpl, jst, plugin_translator

from plugins.jstc_group import models  # noqa: F401  (registers the plugin's tables)
from plugins.jstc_group import rules
from plugins.jstc_group.calendar_items import due_items, session_items
from plugins.jstc_group.grades import GRADES
from plugins.jstc_group.sessions import published_session_on

PROVIDER_ID = "jstc_group"
_l = plugin_translator(__name__).lazy_gettext  # this plugin's own catalog (translations/), not the core's

INFO = ProviderInfo(
    id=PROVIDER_ID,
    name=Msg("JSTC 技術英語能力検定(団体受験)", "JSTC Technical English test (group)"),
    description=Msg("団体受験申込規定(JST-*): 実施経費、一括申込書、合格基準",
                    "Group application rules (JST-*): implementation expense, bulk form, pass marks"),
    exams=tuple(g.as_exam() for g in GRADES.values()),
    deadline_kinds=("application",),
    payment_methods=("invoice",),
    # The provider's words, labelled in both languages (deadline kinds, payment methods).
    # Request bodies the rules API answers (docs, and the conformance kit starts from them).
    examples={
        "quote": {"examinees": {"professional": 1, "grade1": 2, "grade2": 5, "grade3": 5}},
        "policy": {"exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00", "submitted": False},
    },
    vocabulary={
        "application": Msg("申込締切", "Application deadline"),
        "invoice": Msg("請求書払い", "Invoice"),
    },
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
    from plugins.jstc_group import exports  # noqa: F401  (its routes are on the same blueprint)
    return [bp]


@hookimpl
def provider_demo_data(ctx, organization_id, user_id):
    if ctx.provider.id != PROVIDER_ID:
        return
    from portal.sdk import db
    from plugins.jstc_group.demo import seed
    seed(db.session(), organization_id, user_id)


@hookimpl
def portal_housekeeping(now):
    """Examinees' names after the portal's retention period (no JST rule on retention)."""
    from portal.sdk import db
    from plugins.jstc_group import purge
    return [f"examinees purged of personal data: {purge.purge(db.session(), now)}"]


@hookimpl
def portal_retention_schedule(organization_id, now):
    from portal.sdk import db
    from plugins.jstc_group import purge
    return purge.schedule(db.session(), organization_id)


@hookimpl
def portal_audit_labels():
    """How the audit log names this plugin's records and actions."""
    from flask import url_for
    return {
        "entities": {"jstc_group_session": _l("JSTC開催回"), "jstc_group_application": _l("JSTC団体申込"),
                     "jstc_group_examinee": _l("JSTC受験者")},
        "actions": {"upload": _l("一括申込書のアップロード"), "result": _l("結果の入力")},
        "fields": {"grade": _l("受験級"), "score": _l("得点"), "mark": _l("判定"), "responsible_person": _l("責任者"),
                   "staff": _l("運営スタッフ"), "application_opens": _l("申込開始日"),
                   "application_deadline": _l("申込締切日"), "exam_date": _l("試験日")},
        "links": {"jstc_group_application": lambda i: url_for("jstc_group.group", application_id=i)},
    }
