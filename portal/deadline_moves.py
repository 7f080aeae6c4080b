"""What rules changes moved, for the reminder digests: a digest marks a due item whose
deadline moved since the operator's previous digest as changed (old → new).

The moves are written by the save that made them (:func:`portal.whatif.recomputing`), one
:class:`~portal.models.DeadlineMove` per moved deadline, keyed by the DueItem uid that the
dashboard, the ICS feed and the digests use for the same deadline. A move matters to a
digest only while its old or its new moment is still ahead (digests list deadlines from
now on): housekeeping deletes the others (:func:`prune`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, or_
from sqlmodel import Session, select

from portal.models import DeadlineMove


def _still_ahead(now: datetime):
    return or_(DeadlineMove.old_at >= now, DeadlineMove.new_at >= now)


def moves_after(db: Session, organization_id: int, since: datetime | None, now: datetime | None) -> list[DeadlineMove]:
    """The organisation's moves saved after ``since`` (all of them when ``None``) whose old
    or new moment is ``now`` or later (any, when ``None``), oldest first. One query, however
    many deadlines a digest lists."""
    query = select(DeadlineMove).where(DeadlineMove.organization_id == organization_id)
    if now is not None:
        query = query.where(_still_ahead(now))
    if since is not None:
        query = query.where(DeadlineMove.moved_at > since)
    return list(db.exec(query.order_by(DeadlineMove.moved_at, DeadlineMove.id)).all())


def collapse(rows: Iterable[DeadlineMove], since: datetime | None = None) -> dict[str, DeadlineMove]:
    """Per uid, one move from its earliest old moment to its latest new one (a deadline
    moved twice shows where it was and where it is), of the ``rows`` (oldest first) saved
    after ``since``. The result's rows are not added to any session."""
    moves: dict[str, DeadlineMove] = {}
    for row in rows:
        if since is not None and row.moved_at <= since:
            continue
        first = moves.get(row.uid)
        moves[row.uid] = row if first is None else DeadlineMove(
            organization_id=row.organization_id, provider=row.provider, uid=row.uid, record=row.record,
            record_id=row.record_id, kind=row.kind, old_at=first.old_at, new_at=row.new_at, rule=row.rule,
            moved_at=row.moved_at)
    return moves


def moved_since(db: Session, organization_id: int, uids: Iterable[str], since: datetime | None,
                now: datetime | None = None) -> dict[str, DeadlineMove]:
    """The deadlines among ``uids`` that a rules change moved after ``since`` (collapsed as
    :func:`collapse` does), counting only moves whose old or new moment is ``now`` or later
    (by default: every move). One query, whatever the number of uids."""
    wanted = set(uids)
    rows = moves_after(db, organization_id, since, now)
    return {uid: move for uid, move in collapse(rows).items() if uid in wanted}


def prune(db: Session, now: datetime) -> int:
    """Delete the moves no digest will show any more (old and new moment both past):
    one statement. Returns how many went."""
    table = DeadlineMove.__table__
    result = db.execute(delete(table).where(
        or_(table.c.old_at.is_(None), table.c.old_at < now), or_(table.c.new_at.is_(None), table.c.new_at < now)))
    return result.rowcount
