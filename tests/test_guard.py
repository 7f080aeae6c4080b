"""portal.guard: lost races become a Conflict refusal (409) in one place, on SQLite and
PostgreSQL — constraint violations by name, guarded statements that matched no row,
serialization failures — and web requests show them as a 409, never a 500."""
from __future__ import annotations

import logging
import sqlite3

import pytest
from flask import Blueprint
from sqlalchemy import (
    CheckConstraint, Column, Index, Integer, MetaData, String, Table, UniqueConstraint, create_engine, func, insert, select,
    text, update,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import IntegrityError, OperationalError

from conftest import csrf_token
from portal import db
from portal.guard import Conflict, guarded, register_constraint, translate
from portal.plugins import hookimpl
from portal.rules import Msg

probe_metadata = MetaData()
probe = Table(
    "guard_probe", probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("org", Integer, nullable=False),
    Column("code", String(20), nullable=False),
    Column("state", String(20), nullable=False, server_default="draft"),
    Column("amount", Integer, nullable=False, server_default="0"),
    Column("note", String(20)),
    UniqueConstraint("org", "code", name="uq_guard_probe_org_code"),
    CheckConstraint("amount >= 0", name="ck_guard_probe_amount"),
)
Index("ix_guard_probe_note_lower", func.lower(probe.c.note), unique=True)

TAKEN = Msg("このコードは他の操作で先に登録されました。", "This code was registered meanwhile.")
NEGATIVE = Msg("残高が足りなくなりました。", "The balance no longer covers it.")
NOTE_TAKEN = Msg("このメモは使われています。", "This note is taken.")
register_constraint("uq_guard_probe_org_code", "guard_probe", ("org", "code"), "code_taken", TAKEN, "code")
register_constraint("ck_guard_probe_amount", "guard_probe", ("amount",), "balance_short", NEGATIVE)
register_constraint("ix_guard_probe_note_lower", "guard_probe", ("note",), "note_taken", NOTE_TAKEN, "note")


@pytest.fixture
def table(app):
    engine = app.extensions["exam_portal.engine"]
    probe_metadata.create_all(engine)
    yield probe
    probe_metadata.drop_all(engine)


def _insert(**values):
    with db.transaction() as s:
        s.execute(insert(probe).values(**values))


# --------------------------------------------------------------------------- constraint mapping


def test_a_registered_unique_constraint_becomes_its_conflict(app, table):
    with app.test_request_context():
        _insert(org=1, code="A")
        with pytest.raises(Conflict) as caught:
            _insert(org=1, code="A")
        assert caught.value.status == 409 and caught.value.code == "code_taken" and caught.value.field == "code"
        assert caught.value.message == TAKEN
        _insert(org=2, code="A")  # the session is usable again: the failed transaction was rolled back
        assert db.session().execute(select(func.count()).select_from(probe)).scalar_one() == 2


def test_a_named_check_constraint_becomes_its_conflict(app, table):
    with app.test_request_context():
        _insert(org=1, code="A", amount=100)
        with pytest.raises(Conflict) as caught:
            with db.transaction() as s:
                s.execute(update(probe).values(amount=probe.c.amount - 150))
        assert caught.value.code == "balance_short" and caught.value.message == NEGATIVE
        assert db.session().execute(select(probe.c.amount)).scalar_one() == 100


def test_a_unique_expression_index_is_found_by_its_name(app, table):
    with app.test_request_context():
        _insert(org=1, code="A", note="Hello")
        with pytest.raises(Conflict) as caught:
            _insert(org=1, code="B", note="hello")
        assert caught.value.code == "note_taken"


def test_an_unregistered_constraint_is_still_a_conflict_not_a_500(app, table):
    engine = app.extensions["exam_portal.engine"]
    with engine.begin() as conn:
        conn.execute(text("CREATE UNIQUE INDEX ix_guard_probe_state_unnamed ON guard_probe (org, state)"))
    with app.test_request_context():
        _insert(org=1, code="A")
        with pytest.raises(Conflict) as caught:
            _insert(org=1, code="B")
        assert caught.value.code == "conflict" and caught.value.message.ja.startswith("他の操作と同時に")


def test_a_not_null_violation_is_a_bug_not_a_race(app, table):
    with app.test_request_context():
        with pytest.raises(IntegrityError):
            _insert(org=1, code=None)


def test_translate_ignores_errors_that_are_not_races():
    assert translate(ValueError("x")) is None
    assert translate(OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))) is None


def test_a_busy_sqlite_database_is_a_conflict():
    conflict = translate(OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked")))
    assert isinstance(conflict, Conflict) and conflict.code == "conflict"


# --------------------------------------------------------------------------- guarded statements


def test_guarded_raises_the_conflict_when_no_row_matched(app, table):
    with app.test_request_context():
        _insert(org=1, code="A")
        moved = Conflict("moved", Msg("先に変更されました。", "Changed meanwhile."), current=Msg("現在: 確定", "Now: confirmed"))
        with db.transaction() as s:
            result = guarded(s, update(probe).where(probe.c.state == "draft").values(state="confirmed"), moved)
            assert result.rowcount == 1
        with pytest.raises(Conflict) as caught:
            with db.transaction() as s:
                guarded(s, update(probe).where(probe.c.state == "draft").values(state="confirmed"), moved)
        assert caught.value is moved and caught.value.current.en == "Now: confirmed"
        assert caught.value.message.ja == "先に変更されました。現在: 確定"


def test_guarded_builds_the_conflict_lazily_and_checks_the_expected_count(app, table):
    calls = []

    def conflict():
        calls.append(1)
        return Conflict("short", Msg("足りません。", "Short."))

    with app.test_request_context():
        _insert(org=1, code="A")
        _insert(org=1, code="B")
        with db.transaction() as s:
            guarded(s, update(probe).values(amount=1), conflict, expected=2)
        assert calls == []
        with pytest.raises(Conflict):
            with db.transaction() as s:
                guarded(s, update(probe).where(probe.c.code == "A").values(amount=2), conflict, expected=2)
        assert calls == [1]
        assert sorted(db.session().execute(select(probe.c.amount)).scalars()) == [1, 1]  # rolled back


def test_a_conflict_is_logged_on_one_line_without_a_traceback(app, table, caplog):
    with app.test_request_context(), caplog.at_level(logging.INFO, logger="exam_portal.conflict"):
        _insert(org=1, code="A")
        with pytest.raises(Conflict):
            _insert(org=1, code="A")
    records = [r for r in caplog.records if r.name == "exam_portal.conflict"]
    assert len(records) == 1 and records[0].levelno == logging.INFO and records[0].exc_info is None
    assert "code_taken" in records[0].getMessage()


# --------------------------------------------------------------------------- serialization failures (PostgreSQL)


def test_a_serialization_failure_or_a_busy_database_becomes_a_conflict(app, table):
    """PostgreSQL: a SERIALIZABLE transaction whose row another request changed first
    fails with 40001, which db.transaction() answers as a Conflict. SQLite serialises
    writers instead: the loser of the write lock meets "database is locked"."""
    engine = app.extensions["exam_portal.engine"]
    with app.test_request_context():
        _insert(org=1, code="A")
        if engine.dialect.name == "postgresql":
            with pytest.raises(Conflict) as caught:
                with db.transaction() as s:
                    s.connection(execution_options={"isolation_level": "SERIALIZABLE"})
                    s.execute(select(probe.c.amount)).all()  # the snapshot is taken here
                    with engine.begin() as other:  # another request changes the row and commits first
                        other.execute(update(probe).values(amount=5))
                    s.execute(update(probe).values(amount=7))  # 40001: could not serialize access
            assert caught.value.code == "conflict"
            assert db.session().execute(select(probe.c.amount)).scalar_one() == 5
            return
    impatient = create_engine(engine.url, connect_args={"timeout": 0})
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another request holds the write lock
        with impatient.connect() as conn, pytest.raises(OperationalError) as raised:
            conn.execute(update(probe).values(amount=7))
            conn.commit()
        conflict = translate(raised.value)
        assert isinstance(conflict, Conflict) and conflict.code == "conflict" and conflict.status == 409
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.dispose()


def test_a_unit_of_work_that_cannot_take_the_sqlite_write_lock_is_a_conflict(app, table):
    """The portal's own SQLite engine begins a unit of work with BEGIN IMMEDIATE on the
    driver's connection (portal.db): when the lock never comes, that is a Conflict, as for
    any statement, never a raw driver error."""
    engine = app.extensions["exam_portal.engine"]
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL has no write lock to wait for (the test above covers it)
    impatient = db.make_engine(str(engine.url))
    sqlalchemy_event.listen(impatient, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 0"))
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another request holds the write lock
        with impatient.connect() as conn, pytest.raises(OperationalError) as raised:
            conn.execution_options(**{db.WRITE_OPTION: True}).begin()
        assert "BEGIN IMMEDIATE" in str(raised.value)
        conflict = translate(raised.value)
        assert isinstance(conflict, Conflict) and conflict.status == 409
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.dispose()


# --------------------------------------------------------------------------- web: 409, never a 500


class ConflictingViews:
    """A plugin whose views let a lost race escape: the core must still answer 409."""

    @hookimpl
    def portal_blueprints(self):
        bp = Blueprint("guard_probe", __name__, url_prefix="/guard-probe")

        @bp.post("/raise")
        def raise_conflict():
            raise Conflict("moved", Msg("この記録は先に変更されました。", "This record was changed meanwhile."))

        @bp.post("/duplicate")
        def duplicate():
            s = db.session()
            s.execute(insert(probe).values(org=1, code="A"))
            s.execute(insert(probe).values(org=1, code="A"))  # outside db.transaction(): a raw IntegrityError
            s.commit()
            return "unreachable"

        @bp.post("/bug")
        def bug():
            db.session().execute(insert(probe).values(org=1, code=None))
            return "unreachable"

        return [bp]


def _logged_in_client(app):
    from conftest import login
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization
    with app.app_context():
        with db.transaction() as s:
            org = create_organization(s, "競合テスト校")
            s.add(User(organization_id=org.id, email="race@example.jp", name="競合 担当", role="admin",
                       password_hash=hash_password("pw-123456")))
    client = app.test_client()
    login(client, "race@example.jp", "pw-123456")
    return client, csrf_token(client)


@pytest.fixture
def conflicting_app(make_app):
    app = make_app(plugins=[ConflictingViews()], PROPAGATE_EXCEPTIONS=False)
    probe_metadata.create_all(app.extensions["exam_portal.engine"])
    yield app
    probe_metadata.drop_all(app.extensions["exam_portal.engine"])


def test_an_uncaught_conflict_is_a_409_page_in_the_users_language(conflicting_app):
    client, token = _logged_in_client(conflicting_app)
    r = client.post("/guard-probe/raise", headers={"X-CSRFToken": token})
    assert r.status_code == 409 and "この記録は先に変更されました。" in r.get_data(as_text=True)
    r = client.post("/guard-probe/raise?lang=en", headers={"X-CSRFToken": token})
    assert r.status_code == 409 and "This record was changed meanwhile." in r.get_data(as_text=True)


def test_an_uncaught_conflict_is_swapped_into_the_error_box_for_htmx(conflicting_app):
    client, token = _logged_in_client(conflicting_app)
    r = client.post("/guard-probe/raise", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 409 and r.headers["HX-Retarget"] == "#errors" and r.headers["HX-Reswap"] == "outerHTML"
    html = r.get_data(as_text=True)
    assert html.startswith('<div id="errors"') and 'data-conflict="moved"' in html and "hidden" not in html


def test_a_constraint_violation_outside_a_transaction_is_a_409_not_a_500(conflicting_app, caplog):
    client, token = _logged_in_client(conflicting_app)
    with caplog.at_level(logging.INFO):
        r = client.post("/guard-probe/duplicate", headers={"X-CSRFToken": token})
    assert r.status_code == 409 and "このコードは他の操作で先に登録されました。" in r.get_data(as_text=True)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR or rec.exc_info]


def test_a_database_error_that_is_no_race_stays_an_error(conflicting_app):
    client, token = _logged_in_client(conflicting_app)
    assert client.post("/guard-probe/bug", headers={"X-CSRFToken": token}).status_code == 500


def test_htmx_swaps_409_answers(client):
    page = client.get("/login").get_data(as_text=True)
    assert '{"code":"409","swap":true}' in page
