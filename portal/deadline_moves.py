"""What rules changes moved, for the reminder digests: a digest marks a due item whose
deadline moved since the operator's previous digest as changed (old → new).

The moves are written by the save that made them (:func:`portal.whatif.recomputing`), one
:class:`~portal.models.DeadlineMove` per moved deadline, keyed by the DueItem uid that the
dashboard, the ICS feed and the digests use for the same deadline.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlmodel import Session, select

from portal.models import DeadlineMove

CHUNK = 2000


def moved_since(db: Session, organization_id: int, uids: Iterable[str], since: datetime) -> dict[str, DeadlineMove]:
    """The deadlines among ``uids`` that a rules change moved after ``since``: for each, one
    move from its earliest old moment to its latest new one (a deadline moved twice shows
    where it was and where it is). One query per 2,000 uids."""
    wanted = sorted(set(uids))
    moves: dict[str, DeadlineMove] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = db.exec(select(DeadlineMove).where(
            DeadlineMove.organization_id == organization_id, DeadlineMove.uid.in_(wanted[i:i + CHUNK]),
            DeadlineMove.moved_at > since).order_by(DeadlineMove.moved_at, DeadlineMove.id)).all()
        for row in rows:
            first = moves.get(row.uid)
            moves[row.uid] = row if first is None else DeadlineMove(
                organization_id=row.organization_id, provider=row.provider, uid=row.uid, record=row.record,
                record_id=row.record_id, kind=row.kind, old_at=first.old_at, new_at=row.new_at, rule=row.rule,
                moved_at=row.moved_at)
    return moves
