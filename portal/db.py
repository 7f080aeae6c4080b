"""Database engine and the request-scoped session.

SQLite is the embedded default (a file in the instance folder); ``DATABASE_URL``
selects PostgreSQL in production and CI. Every write a view makes happens in one
transaction: :func:`transaction` commits on success and rolls back on any error.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from flask import current_app, g
from sqlalchemy import event, types
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from portal.rules import JST


class AwareDateTime(types.TypeDecorator):
    """Timezone-aware datetimes on every backend: stored as UTC, read back in JST."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=JST)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(JST)


def make_engine(url: str) -> Engine:
    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _serialise_sqlite_writers(engine)
    return engine


WRITE_OPTION = "portal_write"  # execution option: this connection's transaction will write
_WRITING = "portal.writing"  # Session.info key: the current transaction began as a write


def _serialise_sqlite_writers(engine: Engine) -> None:
    """SQLite allows one writer. In WAL mode readers never wait for it, so a transaction
    that only reads begins deferred (``BEGIN``: no lock), while a unit of work
    (:func:`transaction`) begins with ``BEGIN IMMEDIATE``: it takes the write lock first,
    so concurrent writers queue on the busy timeout instead of failing with "database is
    locked" halfway through."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # On the driver's connection: through SQLAlchemy, this one word cost as much as
        # the request's query.
        statement = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:  # a busy database, say: SQLAlchemy's error, as any statement's
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(db_session) -> None:
    db_session.info.pop(_WRITING, None)


def _begin_writing(db_session: Session) -> None:
    """On SQLite, make the unit of work a write transaction from its first statement: a
    read-only transaction the request already began (loading the user, say) is ended
    first; it wrote nothing, and objects it loaded stay usable (``expire_on_commit=False``)."""
    if db_session.info.get(_WRITING) or db_session.get_bind().dialect.name != "sqlite":
        return
    if db_session.in_transaction():
        if db_session.new or db_session.dirty or db_session.deleted:
            return  # changes made before the unit of work: they stay in the transaction that holds them
        db_session.commit()
    db_session.connection(execution_options={WRITE_OPTION: True})
    db_session.info[_WRITING] = True


def engine() -> Engine:
    return current_app.extensions["exam_portal.engine"]


def session() -> Session:
    """The request's session (created on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def close_session(_exc=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit at the end, roll back everything on any exception.

    A lost race (a constraint violation, a serialization failure, a busy SQLite) is
    rolled back and raised as :class:`portal.guard.Conflict`, a refusal views show like
    any other; see :mod:`portal.guard`."""
    from portal import guard
    db_session = session()
    audited = len(g.get("audited", ()))  # changes audited so far in this request (portal.notify)
    try:
        _begin_writing(db_session)
        yield db_session
        db_session.commit()
    except guard.Conflict as conflict:
        db_session.rollback()
        _forget_audited(audited)
        guard.log_conflict(conflict)
        raise
    except DBAPIError as exc:
        db_session.rollback()
        _forget_audited(audited)
        conflict = guard.translate(exc)
        if conflict is None:
            raise
        guard.log_conflict(conflict)
        raise conflict from None
    except BaseException:
        db_session.rollback()
        _forget_audited(audited)
        raise


def _forget_audited(count: int) -> None:
    """A rolled-back unit of work changed nothing: drop its audit notes (success messages)."""
    if "audited" in g:
        del g.audited[count:]


@contextmanager
def read_only() -> Iterator[Session]:
    """A what-if unit of work: the request's session is swapped for one whose transaction
    cannot write and takes no write lock (PostgreSQL ``READ ONLY``; SQLite a deferred
    ``BEGIN`` with ``query_only``), so that hooks reading through :func:`session` see the
    same data as a real save would, and whatever happens is rolled back at the end."""
    connection = engine().connect()
    sqlite = connection.dialect.name == "sqlite"
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("PRAGMA query_only = ON")
    else:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    saved = g.pop("db_session", None)
    g.db_session = Session(bind=connection, expire_on_commit=False)
    try:
        yield g.db_session
    finally:
        g.db_session.close()
        if saved is None:
            g.pop("db_session", None)
        else:
            g.db_session = saved
        transaction.rollback()
        if sqlite:
            connection.exec_driver_sql("PRAGMA query_only = OFF")
        connection.close()


def utcnow() -> datetime:
    return datetime.now(JST)
