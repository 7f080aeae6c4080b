"""Each organisation's rule context, built once per process per rules version.

A :class:`~portal.providers.RuleContext` (closure days, settings, catalog, the calendar
built from them) depends only on rows an admin changes rarely, yet every calculator,
dashboard and booking needs one. Building it costs several statements and a calendar, so
each process keeps the last context it built for every (organisation, provider) together
with the organisation's **rules version** (``organization.rules_version``) it was built
under, and reuses it while the database still holds that version.

The version changes in the same transaction as any change of the rules: a flush that
inserts, updates or deletes a row of a *watched* table (closure days, provider settings,
the core's catalog edits, and plugin tables registered with :func:`watch`, e.g.
a plugin's own subject catalog) sets a new version. Every process on every machine therefore
sees a change on its next request, with no restart and no shared in-process state.

The version is an opaque random number rather than a counter: a context built inside a
transaction that changed the rules is cached under that transaction's own new version,
which no other transaction will ever read if it rolls back (with a counter, a rolled-back
``v+1`` and a later committed ``v+1`` would share one cache entry).

Reading the version costs nothing extra on signed-in requests: :mod:`portal.auth` loads
the user together with the organisation's version (one statement) and
:func:`remember_version` keeps it for the rest of that transaction.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from itertools import chain
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from portal.models import CatalogEntry, ClosureDay, Organization, ProviderSettingValue
from portal.providers import RuleContext, current as providers
from portal.rules import ClosureRule, Exam, Msg

ENABLED_KEY = "_enabled"  # a ProviderSettingValue the organisation admin sets (portal.orgs)
_VERSIONS = "portal.rules_versions"  # Session.info key: versions read in the current transaction

#: Tables whose rows are part of an organisation's rules (each has ``organization_id``).
WATCHED: set[type] = {ClosureDay, ProviderSettingValue, CatalogEntry}


def watch(model: type) -> type:
    """Declare a plugin table part of the organisation's rules (its own catalog, say):
    any change of its rows changes the rules version. Usable as a class decorator."""
    WATCHED.add(model)
    return model


# --------------------------------------------------------------------------- the version


def new_version() -> int:
    return secrets.randbits(62)


def bump(db: Session, organization_id: int) -> None:
    """Give the organisation a new rules version (inside the caller's transaction)."""
    _bump(db, {organization_id})


def _bump(db: OrmSession, organization_ids: set[int]) -> None:
    table = Organization.__table__
    connection = db.connection()
    for org in sorted(organization_ids):
        connection.execute(update(table).where(table.c.id == org).values(rules_version=new_version()))
    db.info.pop(_VERSIONS, None)


@event.listens_for(OrmSession, "before_flush")
def _bump_on_rule_change(session: OrmSession, _flush_context, _instances) -> None:
    changed = {obj.organization_id for obj in chain(session.new, session.dirty, session.deleted)
               if type(obj) in WATCHED and (obj not in session.dirty or session.is_modified(obj))}
    changed.discard(None)
    if changed:
        _bump(session, changed)


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget_versions(session: OrmSession) -> None:
    session.info.pop(_VERSIONS, None)


def remember_version(db: Session, organization_id: int, version: int) -> None:
    """Keep a version read along with other data (the signed-in user) for this transaction."""
    db.info.setdefault(_VERSIONS, {})[organization_id] = version


def rules_version(db: Session, organization_id: int) -> int:
    """The organisation's current rules version (read at most once per transaction)."""
    known = db.info.get(_VERSIONS, {})
    if organization_id not in known:
        version = db.exec(select(Organization.rules_version).where(Organization.id == organization_id)).first()
        remember_version(db, organization_id, version or 0)
    return db.info[_VERSIONS][organization_id]


# --------------------------------------------------------------------------- building a context


def closure_rows(db: Session, organization_id: int, provider_id: str) -> list[ClosureDay]:
    return list(db.exec(select(ClosureDay).where(ClosureDay.organization_id == organization_id,
                                                 ClosureDay.provider == provider_id)
                        .order_by(ClosureDay.start_date, ClosureDay.id)).all())


def closure_rules_of(rows: Iterable[ClosureDay]) -> list[ClosureRule]:
    """The rules of closure rows in the context's order: by start date, then as added
    (rows not saved yet, as a what-if adds them, last — where they will be once saved)."""
    ordered = sorted(rows, key=lambda r: (r.start_date, r.id is None, r.id or 0))
    return [ClosureRule(r.start_date, r.end_date, Msg(r.label_ja, r.label_en or r.label_ja), r.yearly) for r in ordered]


def closure_rules(db: Session, organization_id: int, provider_id: str) -> list[ClosureRule]:
    return closure_rules_of(closure_rows(db, organization_id, provider_id))


def settings(db: Session, organization_id: int, provider_id: str) -> dict:
    rows = db.exec(select(ProviderSettingValue).where(ProviderSettingValue.organization_id == organization_id,
                                                      ProviderSettingValue.provider == provider_id)).all()
    return {r.key: r.value for r in rows if not r.key.startswith("_")}  # "_…" keys are the core's own


def catalog(db: Session, organization_id: int, provider_id: str, pending: CatalogEntry | None = None) -> list[Exam]:
    """The organisation's catalog: the plugin's own (hook ``provider_catalog``) or the
    plugin's catalog data with the organisation's edits and additions applied — with
    ``pending``, an edit not saved yet, as if it were (a what-if, :mod:`portal.whatif`)."""
    base = providers().default_context(provider_id)
    own = providers().catalog(base, organization_id)
    if own is not None:
        return list(own)
    edits = {e.code: e for e in db.exec(select(CatalogEntry).where(
        CatalogEntry.organization_id == organization_id, CatalogEntry.provider == provider_id)
        .order_by(CatalogEntry.id)).all()}
    if pending is not None:
        edits[pending.code] = pending
    exams = []
    for exam in providers().info(provider_id).exams:
        edit = edits.pop(exam.code, None)
        exams.append(exam if edit is None else replace(
            exam, name=edit.name, price=edit.price, duration_minutes=edit.duration_minutes or exam.duration_minutes))
    exams.extend(Exam(e.code, e.name, e.price, e.duration_minutes) for e in edits.values())
    return exams


def build_context(db: Session, organization_id: int, provider_id: str) -> RuleContext:
    """The provider's rules as this organisation configured them, read from the database."""
    return providers().context(provider_id, closure_rules(db, organization_id, provider_id),
                               settings(db, organization_id, provider_id), catalog(db, organization_id, provider_id))


def _enabled_ids(db: Session, organization_id: int) -> list[str]:
    disabled = {row.provider for row in db.exec(select(ProviderSettingValue).where(
        ProviderSettingValue.organization_id == organization_id, ProviderSettingValue.key == ENABLED_KEY)).all()
        if row.value is False}
    return [pid for pid in providers().ids() if pid not in disabled]


# --------------------------------------------------------------------------- the per-process cache


class RuleContextCache:
    """Per process (per app): the last context built for each (organisation, provider)
    and the organisation's enabled providers, each with the version it was built under."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], version: int, build):
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        value = build()
        with self._lock:
            self._entries[key] = (version, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cache() -> RuleContextCache:
    return current_app.extensions.setdefault("exam_portal.rule_contexts", RuleContextCache())


def per_rules_version(db: Session, organization_id: int, key: str, build):
    """``build()``, remembered per process until the organisation's rules version changes:
    for a plugin's data that is part of the rules (its tables registered with :func:`watch`),
    read on many requests and changed rarely. ``key`` names the data (unique per plugin,
    e.g. ``"<provider id>.subjects"``); the value is shared, so treat it as read-only."""
    return cache().get(("plugin", key, organization_id), rules_version(db, organization_id), build)


def org_context(db: Session, organization_id: int, provider_id: str) -> RuleContext:
    """The organisation's rule context of a provider, rebuilt only when the rules version changed."""
    version = rules_version(db, organization_id)
    return cache().get(("context", organization_id, provider_id), version,
                       lambda: build_context(db, organization_id, provider_id))


def enabled_provider_ids(db: Session, organization_id: int) -> list[str]:
    """Installed providers the organisation uses (all unless an admin disabled one)."""
    version = rules_version(db, organization_id)
    return list(cache().get(("enabled", organization_id), version, lambda: _enabled_ids(db, organization_id)))
