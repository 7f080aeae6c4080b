"""SQLite in WAL mode: a read-only request never waits for a writer; writers queue on the
busy timeout instead of failing (issue 10). SQLite only: PostgreSQL readers never wait."""
import sqlite3
import threading
import time

import pytest
from sqlmodel import select

import tests.sample_provider as sample
from conftest import csrf_token, login
from portal import create_app, db, migrate
from portal.models import ClosureDay, User
from portal.orgs import create_organization
from portal.auth import hash_password



@pytest.fixture
def sqlite_app(tmp_path):
    path = tmp_path / "portal.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "test",
                      "EXAM_PORTAL_PLUGINS": "-"}, plugins=[sample])  # the core's own sample provider alone
    with app.app_context():
        migrate.upgrade(app)
        with db.transaction() as s:
            org = create_organization(s, "並行校")
            s.add(User(organization_id=org.id, email="a@example.jp", name="担当", role="admin",
                       password_hash=hash_password("pw-123456")))
    yield app, path
    app.extensions["exam_portal.engine"].dispose()


def _hold_write_lock(path):
    """Another process's writer: BEGIN IMMEDIATE and an uncommitted write."""
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE organization SET name = name || '!'")
    return other


def _in_thread(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()), daemon=True)
    thread.start()
    return thread, result


def test_a_read_only_page_does_not_wait_for_a_writer(sqlite_app):
    app, path = sqlite_app
    client = app.test_client()
    login(client, "a@example.jp", "pw-123456")
    client.get("/dashboard")
    other = _hold_write_lock(path)
    try:
        thread, result = _in_thread(lambda: client.get("/dashboard"))
        thread.join(timeout=10)  # a waiting reader would block for the 30 s busy timeout, then fail
        assert not thread.is_alive(), "the read-only page waited for the writer"
        assert result["value"].status_code == 200
        assert other.in_transaction  # the writer still holds its lock
    finally:
        other.rollback()
        other.close()


def test_a_writer_queues_behind_another_writer_and_then_succeeds(sqlite_app):
    app, path = sqlite_app
    client = app.test_client()
    login(client, "a@example.jp", "pw-123456")
    token = csrf_token(client)
    other = _hold_write_lock(path)
    thread, result = _in_thread(lambda: client.post(
        "/admin/providers/sample/closures", data={"label": "臨時休業", "start_date": "2027-02-10"},
        headers={"X-CSRFToken": token, "HX-Request": "true"}))
    time.sleep(0.5)
    assert thread.is_alive()  # queued on the write lock, not failed
    other.commit()
    other.close()
    thread.join(timeout=30)
    assert result["value"].status_code == 200
    with app.app_context():
        assert [c.label_ja for c in db.session().exec(select(ClosureDay).where(ClosureDay.label_ja == "臨時休業")).all()] == ["臨時休業"]
