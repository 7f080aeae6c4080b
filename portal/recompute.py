"""Recomputing stored deadlines after a change of an organisation's rules, in two steps:

1. :func:`compute_plan` asks every plugin taking part in the provider's questions (hook
   ``provider_recompute_plan``) which of the deadlines it keeps would change under the
   new rules, and how. It only reads: a what-if preview runs it in a read-only
   transaction (:mod:`portal.whatif`).
2. :func:`apply_plan` hands the plan back to the plugins (hook ``provider_apply_plan``),
   each writing the changes of its own stores with set-based statements guarded on the
   old values (a row that changed since the plan was computed is a :class:`~portal.guard.Conflict`).

A save runs both in its transaction; a preview runs the first and shows the result. There
is no other recompute: the plan a preview shows is the plan a save writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlmodel import Session

from portal.providers import RuleContext, current as providers
from portal.rules import Msg, jst


@dataclass(frozen=True)
class DeadlineChange:
    """One deadline of a stored record that the new rules change: moved (``old_at`` ≠
    ``new_at``), new (``old_at`` None), no longer applying (``new_at`` None) or only
    re-explained (same moment, other rule / explanation)."""

    provider: str
    #: which plugin store writes it back (the implementation of ``provider_apply_plan``
    #: that owns it), e.g. ``"booking_deadline"``; ``None`` for a deadline a plugin
    #: computes when shown rather than stores (nothing to write; it still moves).
    store: str | None
    record: str  # what it belongs to: "booking", "exam_day", "group_session" …
    record_id: int
    kind: str
    old_at: datetime | None
    new_at: datetime | None
    rule: str
    explanation: Msg
    subject: str  # who / what: "山田 太郎", "2027-05-10 10:00 試験日"
    exam: str | None
    url: str | None
    uid: str  # the DueItem uid of this deadline (dashboard, ICS, digests)
    row_id: int | None = None  # the stored row, when the store needs it to write back

    @property
    def moves(self) -> bool:
        return self.old_at != self.new_at

    def identity(self) -> tuple:
        """What the change writes (fingerprinted; display fields left out)."""
        iso = lambda at: jst(at).isoformat() if at else None  # noqa: E731
        return (self.provider, self.store, self.record, self.record_id, self.kind, self.row_id, iso(self.old_at),
                iso(self.new_at), self.rule, self.explanation.ja, self.explanation.en)

    def sort_key(self) -> tuple:
        return (self.provider, self.store or "", self.record, self.record_id, self.kind)

    def display_key(self) -> tuple:
        return (self.new_at is None, jst(self.new_at) if self.new_at else datetime.max, self.subject, self.record_id,
                self.kind)


@dataclass(frozen=True)
class Plan:
    provider: str
    changes: tuple[DeadlineChange, ...] = field(default_factory=tuple)

    @property
    def moves(self) -> list[DeadlineChange]:
        return [c for c in self.changes if c.moves]


def compute_plan(db: Session, ctx: RuleContext, before: RuleContext, organization_id: int) -> Plan:
    """What recomputing under ``ctx`` would change, the stored rules being ``before``.
    Reads only (``db`` is the session the plugins read through, :func:`portal.db.session`)."""
    changes = providers().recompute_plan(ctx, before, organization_id)
    return Plan(ctx.provider.id, tuple(sorted(changes, key=DeadlineChange.sort_key)))


def apply_plan(db: Session, ctx: RuleContext, organization_id: int, plan: Plan) -> int:
    """Write ``plan`` (inside the caller's transaction); returns how many rows were written.
    Plugins still implementing the older one-step ``provider_recompute`` run after it."""
    written = providers().apply_plan(ctx, organization_id, plan.changes)
    return written + providers().recompute(ctx, organization_id)


def by_store(changes: Iterable[DeadlineChange], store: str) -> list[DeadlineChange]:
    return [c for c in changes if c.store == store]
