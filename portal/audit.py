"""The audit trail: who changed what, when, with the values before and after."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from flask import g, has_app_context
from sqlmodel import Session

from portal.models import AuditEvent


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
