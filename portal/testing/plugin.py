"""pytest plugin of exam-portal (entry point ``pytest11``): the shared fixtures.

Database tests run against SQLite always and against PostgreSQL as well when
``TEST_DATABASE_URL`` is set: ``database_url`` is parametrised over the backends. The
schema is built by the real Alembic migrations once per backend; each test then starts
from empty tables.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_addoption(parser):
    group = parser.getgroup("exam-portal")
    group.addoption("--exam-portal-provider", action="append", default=[], dest="exam_portal_providers",
                    help="provider id(s) the conformance suite of `portal.testing.check` checks")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each backend (migrated once per test session)."""
    from portal import create_app, migrate
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
        _reset_postgres(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        migrate.upgrade(app)
    app.extensions["exam_portal.engine"].dispose()
    return url


def _empty_tables(engine) -> None:
    """Delete every row (tables of plugins that were not loaded may not exist)."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel
    existing = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())


@pytest.fixture
def make_app(database_url):
    """Build an app on the test database (extra plugin objects may be passed; config such
    as ``EXAM_PORTAL_PLUGINS="acme"`` as keywords)."""
    from portal import create_app
    apps = []

    def factory(plugins=None, **config):
        app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test", **config},
                         plugins=plugins)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        engine = app.extensions["exam_portal.engine"]
        _empty_tables(engine)
        engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def org_factory(app):
    """Create an organisation with a user; returns (org_id, user_id, email, password)."""
    from portal import db
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization

    def make(name="テスト校", email="staff@example.jp", password="pw-123456", role="admin"):
        with app.app_context():
            with db.transaction() as s:
                org = create_organization(s, name)
                user = User(organization_id=org.id, email=email, name="テスト 担当", role=role,
                            password_hash=hash_password(password))
                s.add(user)
                s.flush()
                return org.id, user.id, email, password
    return make


@pytest.fixture
def logged_in(client, org_factory):
    """A client signed in as an admin of a fresh organisation; returns (client, org_id, user_id, token)."""
    from portal.testing import csrf_token, login
    org_id, user_id, email, password = org_factory()
    login(client, email, password)
    return client, org_id, user_id, csrf_token(client)


# --------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app):
    """The app served on a loopback port in a thread (for Playwright)."""
    from werkzeug.serving import make_server
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def csp_reports(page):
    """Every console message and page error of ``page`` that speaks of the Content Security
    Policy (a page that works under the CSP leaves it empty)."""
    reports = []
    page.on("console", lambda msg: reports.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: reports.append(str(exc)))
    return reports
