"""The audit trail: who changed what, when, with the values before and after."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from flask import g, has_app_context
from sqlmodel import Session, select

from portal.models import AuditEvent

#: What a purged person's audit snapshots lose: names, kana, contact and bank account data.
PERSONAL_FIELDS = frozenset({
    "family_name", "given_name", "family_kana", "given_kana", "name", "email", "phone", "birth_date",
    "postal_code", "address", "city", "street", "holder", "bank_code", "branch_code", "account_type",
    "account_number",
})
REDACTED = "(削除済)"


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    data = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    if fields:
        data = {k: data[k] for k in fields if k in data}
    return {k: _plain(v) for k, v in data.items()}


def record(db: Session, organization_id: int, user_id: int | None, action: str, entity: str,
           entity_id: int | None, before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> AuditEvent:
    if has_app_context():  # a request's changes also make its success message (portal.notify)
        g.setdefault("audited", []).append((action, entity))
    event = AuditEvent(organization_id=organization_id, user_id=user_id, action=action, entity=entity,
                       entity_id=entity_id, before=dict(before) if before else None, after=dict(after) if after else None)
    db.add(event)
    return event


def last_event(db: Session, organization_id: int, entity: str, entity_id: int,
               actions: tuple[str, ...] | None = None) -> tuple[AuditEvent, str | None] | None:
    """The latest audit event of a record (optionally of some actions only) and the name of
    its user (``None`` for the clock or the system): who changed it last, for the message
    of a request that lost a race (:mod:`portal.guard`)."""
    from sqlmodel import select
    from portal.models import User
    query = (select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.user_id)
             .where(AuditEvent.organization_id == organization_id, AuditEvent.entity == entity,
                    AuditEvent.entity_id == entity_id))
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    row = db.exec(query.order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def _redacted(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    if not snapshot:
        return snapshot
    return {k: (REDACTED if k in PERSONAL_FIELDS and v not in (None, "") else v) for k, v in snapshot.items()}


def redact(db: Session, entity: str, entity_ids: list[int]) -> int:
    """Blank the personal fields in the snapshots of every event about these records (the
    person was purged); the event, who did it and when stay. One read, one batched write."""
    if not entity_ids:
        return 0
    changed = 0
    for chunk in (entity_ids[i:i + 500] for i in range(0, len(entity_ids), 500)):
        events = db.exec(select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(chunk))).all()
        for event in events:
            before, after = _redacted(event.before), _redacted(event.after)
            if before != event.before or after != event.after:
                event.before, event.after = before, after
                db.add(event)
                changed += 1
    return changed
