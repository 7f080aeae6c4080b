"""Odyssey as an exam-portal provider: hook implementations wiring the rule modules.

Rules: deadlines.py (ODY-DL-1..4, ODY-LA), retake.py (ODY-RT), quote.py (ODY-PR-1..3);
venue workflow pages: views.py (ODY-ST, ODY-CSV, ODY-LA, ODY-PR-4, ODY-PII).
"""
from __future__ import annotations

from datetime import date

from portal.sdk import ClosureRule, MissingFact, Msg, ProviderInfo, ProviderSetting, hookimpl, plugin_translator

from plugins.odyssey import models  # noqa: F401  (the plugin's tables, for migrations)
from plugins.odyssey import dashboard, deadlines, quote, retake
from plugins.odyssey.catalog import Subject, family_of, load_subjects

PROVIDER_ID = "odyssey"
_l = plugin_translator(__name__).lazy_gettext  # this plugin's own catalog (translations/), not the core's

INFO = ProviderInfo(
    id=PROVIDER_ID,
    name=Msg("オデッセイ(随時試験・会場運営)", "Odyssey (on-demand exams, venue operations)"),
    description=Msg("学校会場の随時試験: 申込締切・入金・追加申込・再受験・振込金額(ODY-*)",
                    "On-demand exams at a school venue: deadlines, remittance, late additions, retakes (ODY-*)"),
    exams=tuple(s.to_exam() for s in load_subjects()),
    deadline_kinds=("application", "payment", "late_addition", "self_exam_request"),
    # ODY-DL-3: 弊社休業日 (年末年始, GW…) are published on the support site, not in the manual;
    # 年末年始 Dec 29 – Jan 3 is the default, editable by an administrator.
    closure_defaults=(ClosureRule(date(2000, 12, 29), date(2001, 1, 3),
                                  Msg("オデッセイ休業日(年末年始)", "Odyssey closure (year end)"), yearly=True),),
    settings=(
        ProviderSetting(deadlines.SETTING_STRICT_13, False, Msg(
            "13:00ちょうど開始の試験を午前の試験として扱う(追加申込は前営業日12:00まで)",
            "Treat an exam starting at exactly 13:00 as a morning exam (late addition by 12:00 the previous business day)")),
    ),
    payment_methods=(),
    # Deadlines counted in business days land on one (checked by the conformance kit).
    business_day_kinds=("application", "payment", "late_addition", "self_exam_request"),
    # Request bodies the rules API answers (docs, and the conformance kit starts from them).
    examples={
        "quote": {"items": [{"exam": "VBA-EXCEL-BASIC", "count": 1, "price": "general"}]},
        "retake": {"exam": "VBA-EXCEL-BASIC", "at": "2026-12-01T10:00:00+09:00", "attempts": [{"start": "2026-11-01T10:00:00+09:00", "end": "2026-11-01T11:00:00+09:00", "outcome": "failed"}]},
    },
    # The provider's words, labelled in both languages (deadline kinds, payment methods).
    vocabulary={
        "application": Msg("申込締切", "Application deadline"),
        "payment": Msg("入金期日", "Payment due"),
        "late_addition": Msg("追加申込", "Late addition"),
        "self_exam_request": Msg("自校受験申請", "Own-venue exam request"),
    },
    calculator_facts=("exam", "exam_start"),
    bookings=False,
    catalog_endpoint="odyssey.catalog",
)


@hookimpl
def provider_info():
    return INFO


def _exams(ctx):
    return ctx.exams or ctx.provider.exams


@hookimpl
def provider_deadlines(ctx, query):
    if query.exam is not None:
        family_of(_exams(ctx), query.exam)
    return deadlines.exam_day_deadlines(ctx.calendar, query.exam_start, bool(ctx.setting(deadlines.SETTING_STRICT_13)))


@hookimpl
def provider_retake(ctx, query):
    return retake.retake(family_of(_exams(ctx), query.exam), query.attempts, query.at)


@hookimpl
def provider_quote(ctx, query):
    def subject_for(code, field):
        if code is None or code == "":
            raise MissingFact(field)
        return Subject.from_exam(ctx.exam(code if isinstance(code, str) else repr(code), field))
    return quote.quote(subject_for, query.payload)


@hookimpl
def provider_due_items(ctx, organization_id, start, end):
    return dashboard.due_items(ctx, organization_id, start, end)


@hookimpl
def provider_sessions(ctx, organization_id, start, end):
    return dashboard.sessions(ctx, organization_id, start, end)


@hookimpl
def provider_catalog(ctx, organization_id):
    """The organisation's own subject table (prices, commissions) is the catalog."""
    from portal.sdk import db
    from plugins.odyssey.services import stored_subjects
    return [subject.to_exam() for subject in stored_subjects(db.session(), organization_id).values()]


@hookimpl
def provider_recompute_plan(ctx, organization_id):
    from portal.sdk import db
    from plugins.odyssey.services import plan_open_deadlines
    return plan_open_deadlines(db.session(), ctx, organization_id)


@hookimpl
def provider_recompute_computed(ctx, organization_id, current):
    """Payment, late-addition and self-exam request deadlines are computed, not stored."""
    from portal.sdk import db
    from plugins.odyssey.services import plan_computed_deadlines
    return plan_computed_deadlines(db.session(), ctx, current, org_id=organization_id)


@hookimpl
def provider_recompute_apply(ctx, organization_id, changes):
    from portal.sdk import db
    from plugins.odyssey.services import apply_open_deadlines
    return apply_open_deadlines(db.session(), changes)


@hookimpl
def provider_recompute_records(ctx, organization_id, records):
    from portal.sdk import db
    from plugins.odyssey.services import describe_exam_days
    return describe_exam_days(db.session(), organization_id, records)


@hookimpl
def portal_housekeeping(now):
    """ODY-ST states that the clock changes, then the ODY-PII purge."""
    from portal.sdk import db
    from plugins.odyssey import purge, services
    session = db.session()
    changed = services.advance_states(session, None, now)
    purged = purge.purge(session, now)
    return [f"exam days changed state: {changed}", f"exam days purged of personal data (ODY-PII): {len(purged)}"]


@hookimpl
def portal_retention_schedule(organization_id, now):
    """ODY-PII: each exam day not yet purged, with the moment its candidates' data goes."""
    from portal.sdk import db
    from plugins.odyssey import purge
    return purge.schedule(db.session(), organization_id)


@hookimpl
def portal_blueprints():
    from plugins.odyssey.views import bp
    from plugins.odyssey import exports  # noqa: F401  (its routes are on the same blueprint)
    return [bp]


@hookimpl
def provider_demo_data(ctx, organization_id, user_id):
    from portal.sdk import db
    from plugins.odyssey.demo import seed
    seed(db.session(), organization_id, user_id)


@hookimpl
def portal_audit_labels():
    """How the audit log names this plugin's records and actions."""
    from flask import url_for
    return {
        "entities": {"odyssey_exam_day": _l("オデッセイ試験実施日"), "odyssey_candidate": _l("オデッセイ受験者"),
                     "odyssey_venue": _l("オデッセイ会場情報")},
        "actions": {"state_change": _l("状態の変更"), "import": _l("CSVインポート"), "delete_import": _l("インポートの削除"),
                    "late_addition": _l("追加申込"), "self_exam_request": _l("自校受験申請"),
                    "self_exam_answer": _l("自校受験申請の回答")},
        "fields": {"exam_day_id": _l("試験実施日"), "candidate_type": _l("受験者情報"), "tests": _l("申込科目"),
                   "late_addition": _l("追加申込"), "state": _l("状態"), "by": _l("契機"), "rows": _l("件数"),
                   "deposit_balance": _l("預け金残高"), "exam_date": _l("試験実施日"), "exam_start": _l("開始"),
                   "application_deadline": _l("申込期限")},
        "links": {"odyssey_exam_day": lambda i: url_for("odyssey.day", day_id=i)},
    }
