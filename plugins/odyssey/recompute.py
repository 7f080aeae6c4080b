"""Odyssey's part of the recompute plan (hooks ``provider_recompute_plan`` /
``provider_apply_plan``): the exam days whose deadlines the new rules move.

A draft day stores its ODY-DL-1 application deadline (``application_deadline``; a confirmed
or later day keeps the deadline it was applied under). The other open deadlines of a day
(ODY-DL-2, ODY-DL-4, ODY-LA, as the dashboard lists them by state) are computed when shown:
they move too, so the plan lists them, with nothing to write.
"""
from __future__ import annotations

from typing import Sequence

from flask import url_for
from sqlalchemy import and_, bindparam, update
from sqlmodel import Session, select

from portal import guard
from portal.providers import RuleContext
from portal.recompute import DeadlineChange, by_store
from portal.rules import Msg, RuleError, jst

from plugins.odyssey import deadlines, states
from plugins.odyssey.dashboard import OPEN_KINDS
from plugins.odyssey.models import OdysseyExamDay

STORE = "odyssey_exam_day"
NONE = Msg("", "")

CHANGED_MEANWHILE = guard.Conflict("deadlines_changed", Msg(
    "期限の再計算中に試験日が変更されたため、保存していません。もう一度お試しください。",
    "An exam day changed while its deadlines were being recomputed, so nothing was saved. Try again."))


def _open_deadlines(ctx: RuleContext, day: OdysseyExamDay) -> dict[str, tuple]:
    """The day's open deadlines under ``ctx`` as (at, rule, explanation) by kind; none
    when the exam day itself is not allowed under it (ODY-DL-3: the day page says why)."""
    try:
        answers = deadlines.exam_day_deadlines(ctx.calendar, day.exam_start, bool(ctx.setting(deadlines.SETTING_STRICT_13)))
    except RuleError:
        return {}
    return {d.kind: (d.at, d.rule, d.explanation) for d in answers if d.kind in OPEN_KINDS[day.state]}


def plan(db: Session, ctx: RuleContext, before: RuleContext, organization_id: int) -> list[DeadlineChange]:
    days = db.exec(select(OdysseyExamDay).where(OdysseyExamDay.organization_id == organization_id,
                                                OdysseyExamDay.state.in_(tuple(OPEN_KINDS)))
                   .order_by(OdysseyExamDay.exam_start)).all()
    computed: dict[tuple, tuple] = {}  # (exam start, state) → (old, new): one computation per distinct day
    changes = []
    for day in days:
        key = (day.exam_start, day.state)
        if key not in computed:
            computed[key] = (_open_deadlines(before, day), _open_deadlines(ctx, day))
        old, new = computed[key]
        old, new = dict(old), dict(new)
        store_kind = "application" if day.state == states.DRAFT else None
        if store_kind:
            d = deadlines.application_deadline(ctx.calendar, jst(day.exam_start).date())
            old_rule, old_why = old.get(store_kind, (None, d.rule, d.explanation))[1:]
            old[store_kind] = (day.application_deadline, old_rule, old_why)
            new[store_kind] = (d.at, d.rule, d.explanation)
        label = f"{jst(day.exam_start):%Y-%m-%d %H:%M} 試験日"
        for kind in sorted(set(old) | set(new)):
            old_at, old_rule, old_why = old.get(kind, (None, "", NONE))
            new_at, rule, why = new.get(kind, (None, old_rule, old_why))
            if old_at == new_at and (old_rule, old_why) == (rule, why):
                continue
            changes.append(DeadlineChange(
                provider=ctx.provider.id, store=STORE if kind == store_kind else None, record="exam_day",
                record_id=day.id, kind=kind, old_at=old_at, new_at=new_at, rule=rule, explanation=why, subject=label,
                exam=None, url=_day_url(day.id), uid=f"{ctx.provider.id}-{kind}-day-{day.id}"))
    return changes


def _day_url(day_id: int) -> str | None:
    try:
        return url_for("odyssey.day", day_id=day_id)
    except RuntimeError:
        return None


def apply(db: Session, changes: Sequence[DeadlineChange]) -> int:
    """The draft days' stored ODY-DL-1 deadlines, guarded on the old value and the state."""
    mine = [c for c in by_store(changes, STORE) if c.old_at != c.new_at]
    if not mine:
        return 0
    table = OdysseyExamDay.__table__
    statement = update(table).where(and_(table.c.id == bindparam("day_id"),
                                         table.c.application_deadline == bindparam("old_at"),
                                         table.c.state == states.DRAFT)) \
        .values(application_deadline=bindparam("new_at"))
    result = db.execute(statement, [{"day_id": c.record_id, "old_at": c.old_at, "new_at": c.new_at} for c in mine])
    if db.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(mine):
        raise CHANGED_MEANWHILE
    return len(mine)
