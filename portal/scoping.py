"""Organisation scoping: every read of stored data goes through these helpers, so a
record of another organisation answers 404 as if it did not exist."""
from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlmodel import select

from portal import db

T = TypeVar("T")


def org_id() -> int:
    return current_user.organization_id


def scoped(model):
    """``select(model)`` limited to the signed-in user's organisation."""
    return select(model).where(model.organization_id == org_id())


def get_or_404(model: type[T], ident: int) -> T:
    obj = db.session().get(model, ident)
    if obj is None or obj.organization_id != org_id():
        abort(404)
    return obj
