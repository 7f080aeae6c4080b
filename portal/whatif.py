"""What-if of an edit of an organisation's rules (closure days, settings, catalog): which
stored deadlines it would move, before it is saved.

One code path: the recompute plan (:func:`portal.recompute.plan`) is computed from the
rules as they would be, then either shown (:func:`preview`, in a read-only transaction:
nothing is written, no write lock is taken) or written (:func:`recomputing`, in the save's
transaction, after the edit). A save carries the fingerprint of the plan the admin saw; if
the plan it computes is not that one (the data changed meanwhile, or the form changed after
the last preview), nothing is saved and the admin sees the new plan instead
(:class:`PlanChanged`).
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any, Callable, Iterator, Mapping, Sequence

from flask import make_response
from sqlalchemy import insert
from sqlmodel import Session

from portal import db, recompute
from portal.models import CatalogEntry, ClosureDay, DeadlineMove
from portal.providers import RuleContext, current as providers
from portal.recompute import DeadlineChange, PlanRecord, RecomputePlan
from portal.rules import JST, ClosureRule, Exam, Msg, RuleRefusal, jst
from portal.rule_context import catalog, closure_rows, closure_rules_of, org_context, settings as stored_settings
from portal.rules.parse import now_jst

#: How many moved deadlines a preview lists (the counts always cover all of them).
LISTED = 200


@dataclass(frozen=True)
class RulesEdit:
    """An edit of one provider's rules for an organisation, not saved yet."""

    add_closures: tuple[ClosureRule, ...] = ()
    remove_closures: frozenset[int] = frozenset()  # ClosureDay ids
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: an edit of the core catalog (a row not added to the session)
    catalog_entry: CatalogEntry | None = None
    #: a plugin's own catalog as it would be after the edit (plugins with their own catalog
    #: page): called with the what-if's read-only session
    exams: Callable[[Session], Sequence[Exam]] | None = None


def edited_context(s: Session, organization_id: int, provider_id: str, edit: RulesEdit) -> RuleContext:
    """The provider's rules as :func:`portal.rule_context.build_context` will read them once
    ``edit`` is saved (the same ordering and reading of the rows, the edit's rows unsaved)."""
    rows = [r for r in closure_rows(s, organization_id, provider_id) if r.id not in edit.remove_closures]
    rows.extend(ClosureDay(organization_id=organization_id, provider=provider_id, start_date=rule.start,
                           end_date=rule.end, yearly=rule.yearly, label_ja=rule.label.ja, label_en=rule.label.en)
                for rule in edit.add_closures)
    values = {**stored_settings(s, organization_id, provider_id), **edit.settings}
    exams = edit.exams(s) if edit.exams is not None else catalog(s, organization_id, provider_id, edit.catalog_entry)
    return providers().context(provider_id, closure_rules_of(rows), values, exams)


# --------------------------------------------------------------------------- what a plan means


def _iso(at: datetime | None) -> str | None:
    return jst(at).isoformat() if at else None


def fingerprint(plan: RecomputePlan) -> str:
    """A short hash of everything the plan would write, independent of its order: the save
    compares it with the one the admin saw."""
    lines = sorted(repr((c.source, c.kind, _iso(c.old_at), _iso(c.new_at), c.rule, c.explanation.ja, c.explanation.en,
                         sorted(c.records), c.computed)) for c in plan.changes)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def _what(source: str, record: PlanRecord | None) -> Msg:
    """The kind of record ("予約", "試験日" …) as its plugin names it, else its source."""
    return record.what if record else Msg(source, source)


@dataclass(frozen=True)
class Move:
    """One moved deadline as a preview lists it: the change, the record it moves, and that
    record as people know it (``None`` if its plugin did not describe it)."""

    change: DeadlineChange
    record_id: int
    record: PlanRecord | None

    @property
    def subject(self) -> str:
        return self.record.subject if self.record else f"{self.change.source} #{self.record_id}"

    @property
    def what(self) -> Msg:
        return _what(self.change.source, self.record)

    @property
    def exam(self) -> str | None:
        return self.record.exam if self.record else None

    @property
    def url(self) -> str | None:
        return self.record.url if self.record else None

    @property
    def uid(self) -> str:
        c = self.change
        return self.record.uid(c.kind) if self.record else f"{c.source}-{c.kind}-{self.record_id}"


@dataclass(frozen=True)
class DayGroup:
    day: date | None  # the new date (None: the deadline no longer applies)
    moves: tuple[Move, ...]
    past: bool  # the new date is today or already past
    today: bool


@dataclass(frozen=True)
class Preview:
    """What a plan would do, as the admin page and the CLI show it."""

    provider: str
    fingerprint: str
    moved: int  # deadlines whose moment changes (stored or computed)
    updated: int  # deadlines that change: moved, or stored ones whose rule / explanation only is rewritten
    records: tuple[tuple[str, Msg, int], ...]  # moved records per source: (source, what, how many)
    into_past: int  # moved to today or to a day already past
    groups: tuple[DayGroup, ...]  # the first ``listed`` moves, by new date
    unlisted: int


_NEVER = datetime.max.replace(tzinfo=JST)


def _display_key(change: DeadlineChange) -> tuple:
    return (change.new_at is None, change.new_at or _NEVER, change.source, change.kind)


def summarise(ctx: RuleContext, plan: RecomputePlan, today: date | None = None, listed: int = LISTED) -> Preview:
    """Counts over the whole plan (a change holds every record sharing it, so this is work
    per distinct change); the records described (hook ``provider_recompute_records``) only
    for the first ``listed`` moves and one of each kind of record, however large the plan."""
    today = today or now_jst().date()
    tomorrow = datetime.combine(today + timedelta(days=1), time(0, 0), JST)
    changes = sorted((c for c in plan.changes if c.moved), key=_display_key)
    shown: list[tuple[DeadlineChange, int]] = []
    per_source = _records_by_source(changes)
    first_of_source: dict[str, tuple[str, int]] = {}
    for c in changes:
        first_of_source.setdefault(c.source, (c.source, min(c.records)))
        if len(shown) < listed:
            shown.extend((c, record) for record in sorted(c.records)[:listed - len(shown)])
    described = recompute.records(ctx, plan.organization_id,
                                  [*((c.source, r) for c, r in shown), *first_of_source.values()])
    what = {source: _what(source, described.get(key)) for source, key in first_of_source.items()}
    groups = []
    for day, pairs in groupby(shown, key=lambda pair: jst(pair[0].new_at).date() if pair[0].new_at else None):
        rows = tuple(Move(c, r, described.get((c.source, r))) for c, r in pairs)
        groups.append(DayGroup(day, rows, past=day is not None and day <= today, today=day == today))
    moved = sum(len(c.records) for c in changes)
    return Preview(provider=ctx.provider.id, fingerprint=fingerprint(plan), moved=moved, updated=len(plan),
                   records=tuple((source, what[source], len(ids)) for source, ids in per_source.items()),
                   into_past=sum(len(c.records) for c in changes if c.new_at is not None and c.new_at < tomorrow),
                   groups=tuple(groups), unlisted=moved - len(shown))


# --------------------------------------------------------------------------- show or write


def preview(organization_id: int, provider_id: str, edit: RulesEdit, today: date | None = None,
            listed: int = LISTED) -> Preview:
    """What saving ``edit`` would do, computed in a read-only transaction that is rolled
    back: nothing is written and no write lock is taken, even by a plugin's hook."""
    with db.read_only() as s:
        ctx = edited_context(s, organization_id, provider_id, edit)
        current = org_context(s, organization_id, provider_id)
        return summarise(ctx, recompute.plan(s, ctx, organization_id, current), today, listed)


class PlanChanged(RuleRefusal):
    """The plan a save computed is not the one the admin saw: nothing is saved."""

    status = 409

    def __init__(self, preview: Preview, first_look: bool = False):
        if first_look:
            message = Msg("まだ保存していません。この変更で変わる期限を確認して、もう一度押すと保存します。",
                          "Not saved yet: check the deadlines this edit moves, then press again to save.")
        else:
            message = Msg("確認した内容から期限の変更が変わりました(その間にデータか入力が変わりました)。"
                          "保存していません。新しい内容を確認してから保存してください。",
                          "The deadlines this edit moves are no longer those you previewed (the data or the form "
                          "changed meanwhile). Nothing was saved: check the new preview and save again.")
        super().__init__("plan_changed", message, "plan")
        self.preview = preview
        self.first_look = first_look


def confirmed(organization_id: int, provider_id: str, edit: RulesEdit, shown: str | None) -> str | None:
    """The fingerprint a save checks its plan against. A form that carries an empty ``plan``
    (no preview shown yet: a form sent without JavaScript, the first press of a delete
    button) gets the preview instead — computed read-only, nothing written — unless the edit
    changes no deadline, which needs no confirmation (the save still checks that it still
    changes none)."""
    if shown != "":
        return shown
    seen = preview(organization_id, provider_id, edit)
    if seen.updated:
        raise PlanChanged(seen, first_look=True)
    return seen.fingerprint


@dataclass
class Recomputed:
    """What a save's recompute did (filled when the ``recomputing`` block ends)."""

    moved: int = 0
    updated: int = 0
    records: dict[str, int] = field(default_factory=dict)

    def audit(self) -> dict[str, Any]:
        """What the audit entry of the save records."""
        return {"deadlines_moved": self.moved, "deadlines_updated": self.updated, "records_moved": dict(self.records)}


@contextmanager
def recomputing(s: Session, organization_id: int, provider_id: str, shown: str | None = None) -> Iterator[Recomputed]:
    """Around the write of an edit, inside the save's transaction: when the block ends, the
    plan is computed from the stored (edited) rules — the same :func:`portal.recompute.plan`
    a preview shows, computed deadlines compared with the rules read before the block — and
    written, and the moved deadlines are kept for the reminder digests
    (:class:`portal.models.DeadlineMove`).

    ``shown`` is the fingerprint of the plan the admin previewed (``None``: the request
    asked for no preview, e.g. a script): if the plan differs, :class:`PlanChanged` is
    raised so that the caller's transaction rolls the edit back."""
    done = Recomputed()
    current = org_context(s, organization_id, provider_id)  # the rules before the edit (computed deadlines)
    yield done
    s.flush()
    ctx = org_context(s, organization_id, provider_id)
    plan = recompute.plan(s, ctx, organization_id, current)
    if shown is not None and shown != fingerprint(plan):
        raise PlanChanged(summarise(ctx, plan), first_look=shown == "")
    recompute.apply(s, ctx, plan)
    providers().recompute_legacy(ctx, organization_id)  # plugins without a plan (not previewed)
    moves = [(c, record) for c in plan.changes if c.moved for record in c.records]
    if moves:
        described = recompute.records(ctx, organization_id, {(c.source, r) for c, r in moves})
        now = now_jst()
        s.execute(insert(DeadlineMove.__table__), [
            {"organization_id": organization_id, "provider": provider_id, "record": c.source, "record_id": r,
             "uid": Move(c, r, described.get((c.source, r))).uid, "kind": c.kind, "old_at": c.old_at,
             "new_at": c.new_at, "rule": c.rule, "moved_at": now} for c, r in moves])
    done.moved, done.updated = len(moves), len(plan)
    done.records = {source: len(ids) for source, ids in _records_by_source(c for c in plan.changes if c.moved).items()}


def _records_by_source(changes) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for c in changes:
        found.setdefault(c.source, set()).update(c.records)
    return found


@dataclass(frozen=True)
class Notice:
    """A line above a what-if slot: saved (with how many deadlines moved) or not saved."""

    message: Msg
    moved: int | None = None


def saved_notice(done: Recomputed) -> Notice:
    if not done.moved:
        return Notice(Msg("保存しました。期限は変わりませんでした。", "Saved. No deadline moved."), 0)
    return Notice(Msg(f"保存しました。期限{done.moved}件を変更しました。", f"Saved. {done.moved} deadline(s) moved."),
                  done.moved)


def form_fingerprint(form: Mapping[str, str]) -> str | None:
    """The previewed plan a form carries: ``None`` when the form has no such field (a
    script posting directly); ``""`` when it has one but no preview was shown yet —
    which :func:`recomputing` treats as a plan to show first."""
    return form.get("plan") if "plan" in form else None


def moves_of(preview: Preview) -> list[Move]:
    """The moves a preview lists, in its order."""
    return [m for g in preview.groups for m in g.moves]


def partial(preview: Preview | None = None, errors: Mapping[str, Msg] | None = None, notice: Notice | None = None):
    """The live preview fragment for an edit form's preview slot (a 200 even for
    incomplete input: it only informs). Plugins' own edit pages use it too."""
    from flask import render_template
    from portal import htmx
    return htmx.vary(make_response(render_template("admin/partials/whatif.html", preview=preview,
                                                   whatif_errors=errors or {}, notice=notice)))


def moment(at: datetime | None) -> str:
    return jst(at).strftime("%Y-%m-%d %H:%M") if at else "—"
