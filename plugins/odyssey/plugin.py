"""Odyssey as an exam-portal provider: hook implementations wiring the rule modules.

Rules: deadlines.py (ODY-DL-1..4, ODY-LA), retake.py (ODY-RT), quote.py (ODY-PR-1..3);
venue workflow pages: views.py (ODY-ST, ODY-CSV, ODY-LA, ODY-PR-4, ODY-PII).
"""
from __future__ import annotations

from datetime import date

from portal.plugins import hookimpl
from portal.rules import ClosureRule, MissingFact, Msg, ProviderInfo, ProviderSetting

from plugins.odyssey import models  # noqa: F401  (the plugin's tables, for migrations)
from plugins.odyssey import dashboard, deadlines, quote, retake
from plugins.odyssey.catalog import Subject, family_of, load_subjects

PROVIDER_ID = "odyssey"

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
    from portal import db
    from plugins.odyssey.services import subjects
    return [subject.to_exam() for subject in subjects(db.session(), organization_id).values()]


@hookimpl
def provider_recompute_plan(ctx, organization_id):
    from portal import db
    from plugins.odyssey.services import plan_open_deadlines
    return plan_open_deadlines(db.session(), ctx, organization_id)


@hookimpl
def provider_recompute_apply(ctx, organization_id, changes):
    from portal import db
    from plugins.odyssey.services import apply_open_deadlines
    return apply_open_deadlines(db.session(), changes)


@hookimpl
def provider_recompute_records(ctx, organization_id, records):
    from portal import db
    from plugins.odyssey.services import describe_exam_days
    return describe_exam_days(db.session(), organization_id, records)


@hookimpl
def portal_housekeeping(now):
    """ODY-ST states that the clock changes, then the ODY-PII purge."""
    from portal import db
    from plugins.odyssey import purge, services
    session = db.session()
    changed = services.advance_states(session, None, now)
    purged = purge.purge(session, now)
    return [f"exam days changed state: {changed}", f"exam days purged of personal data (ODY-PII): {len(purged)}"]


@hookimpl
def portal_retention_schedule(organization_id, now):
    """ODY-PII: each exam day not yet purged, with the moment its candidates' data goes."""
    from portal import db
    from plugins.odyssey import purge
    return purge.schedule(db.session(), organization_id)


@hookimpl
def portal_blueprints():
    from plugins.odyssey.views import bp
    return [bp]


@hookimpl
def provider_demo_data(ctx, organization_id, user_id):
    from portal import db
    from plugins.odyssey.demo import seed
    seed(db.session(), organization_id, user_id)
