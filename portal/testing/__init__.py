"""The conformance kit and test fixtures for exam-portal plugins (``pip install exam-portal[test]``).

``portal.testing.plugin`` is a pytest plugin registered under the ``pytest11`` entry point,
so any test run in an environment where exam-portal is installed gets the fixtures
``database_url``, ``make_app``, ``app``, ``client``, ``org_factory``, ``logged_in``,
``live_server``, ``browser``, ``page`` and ``csp_reports``. Subclass :class:`ConformanceSuite` to check a
provider against the rules API contract::

    from portal.testing import ConformanceSuite

    class TestAcmeConformance(ConformanceSuite):
        provider_id = "acme"

``flask --app portal check-provider acme`` runs the same suite from the command line.
"""
from __future__ import annotations

import re
import threading

from portal.testing.conformance import ConformanceSuite

__all__ = ["ConformanceSuite", "browser_login", "concurrently", "count_statements", "csrf_token", "csv_rows", "login",
           "seed_demo_and_login", "xlsx_rows"]


def login(client, email, password):
    """Sign in through the real login form (CSRF token taken from the page)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return token


def browser_login(page, base_url, email, password):
    """Sign in through the login page in the browser (Playwright ``page``); lands on the dashboard."""
    from playwright.sync_api import expect
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(f"{base_url}/dashboard")


def csrf_token(client, url="/"):
    """The CSRF token a signed-in page gives its htmx requests."""
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def seed_demo_and_login(app):
    """Run the real ``flask seed-demo`` and sign in with the login it prints;
    returns (client, organisation id)."""
    from sqlmodel import select

    from portal import db
    from portal.models import User
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    email, password = result.output.strip().splitlines()[-1].split(": ", 1)[1].split(" / ")
    client = app.test_client()
    login(client, email, password)
    with app.app_context():
        org_id = db.session().exec(select(User).where(User.email == email)).one().organization_id
    return client, org_id


def csv_rows(response) -> list[list[str]]:
    """An export read back as Excel would: UTF-8 with BOM, then CSV."""
    import csv
    import io
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so that Japanese Excel opens it"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    """An .xlsx export read back with openpyxl; no cell may hold a formula."""
    import io
    from openpyxl import load_workbook
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"a formula in {cell.coordinate}: {cell.value!r}"
    return [[c.value for c in row] for row in sheet.iter_rows()]


def count_statements(app, fn) -> int:
    """How many SQL statements ``fn()`` sends (a list must not send one per row)."""
    from sqlalchemy import event
    engine = app.extensions["exam_portal.engine"]
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def concurrently(client, *calls, timeout: float = 60):
    """Send the requests ``calls`` (each ``call(client) -> response``) at the same moment,
    each from its own thread with its own test client (so its own request, session and
    database connection) signed in as ``client``. Returns ``[(status, html)]`` in call
    order; an exception escaping the app counts as a 500 with its repr."""
    app = client.application
    cookie = client.get_cookie("session")
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        own = app.test_client()
        if cookie is not None:
            own.set_cookie("session", cookie.value)
        barrier.wait()
        try:
            response = call(own)
            results[index] = (response.status_code, response.get_data(as_text=True))
        except Exception as exc:  # noqa: BLE001 — the assertions show it as a 500
            results[index] = (500, repr(exc))

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results
