"""Lost races as refusals, in one place.

Every state change is one guarded statement on the expected current state
(``UPDATE … WHERE id = :id AND status IN (…)``); the schema forbids what must never
happen (unique and check constraints). When two requests race, the loser meets one of
three things, and this module turns each into a :class:`Conflict` — a
:class:`~portal.rules.RuleRefusal` with status 409 and a message in both languages —
so that views show it like any rule refusal, never as a 500:

- a guarded statement that matched no row: :func:`guarded` raises the conflict the
  caller described ("this booking was changed meanwhile");
- a constraint violation: :func:`register_constraint` names the constraint once with
  its message; :func:`translate` (used by :func:`portal.db.transaction`) maps the
  database's error to it, on PostgreSQL by constraint name, on SQLite by the table and
  columns or the check's name in the error text;
  A violation nobody registered is still a generic "changed meanwhile" conflict, except
  a NOT NULL violation, which is a bug and stays an error;
- a serialization failure or deadlock (PostgreSQL) or a busy SQLite database: a generic
  "changed meanwhile, try again".

Views answer a refusal with :func:`status_of` (409 for a conflict); a Conflict no view
caught becomes a 409 page (:mod:`portal.web.conflicts`).

Conflicts are logged on one line without a traceback: a lost race is not a bug.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.exc import DBAPIError, IntegrityError

from portal.rules import Msg, RuleError, RuleRefusal

log = logging.getLogger("exam_portal.conflict")


class Conflict(RuleRefusal):
    """Another request changed the record first (HTTP 409).

    ``current`` describes the record's state now (e.g. "cancelled at 10:42 by 佐藤"),
    shown with the message so the user sees what happened instead."""

    status = 409

    def __init__(self, code: str, message: Msg, field: str | None = None, current: Msg | None = None):
        super().__init__(code, message if current is None else Msg.join([message, current]), field)
        self.current = current


@dataclass(frozen=True)
class ConstraintMessage:
    name: str
    table: str
    columns: tuple[str, ...]
    code: str
    message: Msg
    field: str | None = None


_CONSTRAINTS: dict[str, ConstraintMessage] = {}

CHANGED_MEANWHILE = Msg("他の操作と同時に実行されたため、処理しませんでした。最新の状態を確認して、もう一度お試しください。",
                        "Another request changed this at the same moment, so nothing was done. "
                        "Check the current state and try again.")


def register_constraint(name: str, table: str, columns: tuple[str, ...] | list[str], code: str, message: Msg,
                        field: str | None = None) -> None:
    """Name a unique / check constraint (or unique index) and the refusal its violation means.

    ``table`` and ``columns`` identify it in SQLite's error text ("UNIQUE constraint
    failed: table.a, table.b"); ``name`` identifies it on PostgreSQL and in SQLite's
    "CHECK constraint failed: name". Plugins call this at import time for their tables."""
    _CONSTRAINTS[name] = ConstraintMessage(name, table, tuple(columns), code, message, field)


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _constraint_name(exc: DBAPIError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) if diag is not None else None


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$", re.MULTILINE)
_SQLITE_UNIQUE_INDEX = re.compile(r"UNIQUE constraint failed: index '(\w+)'")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")
#: Violations that are programming errors, not lost races: they stay errors (and a 500).
_NOT_A_RACE_SQLSTATES = ("23502",)  # not_null_violation
_NOT_A_RACE_SQLITE = ("NOT NULL constraint failed",)
#: Serialization failure, deadlock, lock not available (NOWAIT).
_RETRYABLE_SQLSTATES = ("40001", "40P01", "55P03")


def _match(exc: IntegrityError) -> ConstraintMessage | None:
    name = _constraint_name(exc)
    if name and name in _CONSTRAINTS:
        return _CONSTRAINTS[name]
    text = str(exc.orig)
    index = _SQLITE_UNIQUE_INDEX.search(text)
    if index:
        return _CONSTRAINTS.get(index.group(1))
    unique = _SQLITE_UNIQUE.search(text)
    if unique:
        parts = [p.strip() for p in unique.group(1).split(",")]
        table = parts[0].split(".", 1)[0] if parts else ""
        columns = tuple(p.split(".", 1)[-1] for p in parts)
        for known in _CONSTRAINTS.values():
            if known.table == table and known.columns == columns:
                return known
    check = _SQLITE_CHECK.search(text)
    if check and check.group(1) in _CONSTRAINTS:
        return _CONSTRAINTS[check.group(1)]
    return None


def translate(exc: BaseException) -> Conflict | None:
    """The conflict a database error means, or ``None`` if it is not a lost race."""
    if isinstance(exc, IntegrityError):
        known = _match(exc)
        if known is not None:
            return Conflict(known.code, known.message, known.field)
        if _sqlstate(exc) in _NOT_A_RACE_SQLSTATES or any(t in str(exc.orig) for t in _NOT_A_RACE_SQLITE):
            return None
        return Conflict("conflict", CHANGED_MEANWHILE)
    if isinstance(exc, DBAPIError):  # OperationalError on both backends; psycopg may raise others
        state = _sqlstate(exc)
        if state in _RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig):
            return Conflict("conflict", CHANGED_MEANWHILE)
    return None


def log_conflict(conflict: Conflict) -> None:
    """One line, no traceback: a lost race is an expected outcome, not a bug."""
    log.info("refused after a lost race: %s (%s)", conflict.code, conflict.message.en)


def status_of(refusal: RuleError, default: int = 422) -> int:
    """The HTTP status a view answers a refusal with: 409 for a :class:`Conflict`, else
    ``default`` (views answer form and rule refusals with 422)."""
    return refusal.status if isinstance(refusal, Conflict) else default


def guarded(db: Any, statement: Any, conflict: Conflict | Callable[[], Conflict], expected: int = 1) -> Any:
    """Execute a conditional UPDATE / DELETE; if it matched fewer than ``expected`` rows
    the state was not what the caller expected: raise ``conflict`` (or the conflict
    returned by calling it, which may read the record's current state)."""
    result = db.execute(statement)
    if result.rowcount < expected:
        raise conflict() if callable(conflict) else conflict
    return result
