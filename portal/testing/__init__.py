"""The conformance kit and test fixtures for exam-portal plugins (``pip install exam-portal[test]``).

``portal.testing.plugin`` is a pytest plugin registered under the ``pytest11`` entry point,
so any test run in an environment where exam-portal is installed gets the fixtures
``database_url``, ``make_app``, ``app``, ``client``, ``org_factory``, ``logged_in``,
``live_server``, ``browser`` and ``page``. Subclass :class:`ConformanceSuite` to check a
provider against the rules API contract::

    from portal.testing import ConformanceSuite

    class TestAcmeConformance(ConformanceSuite):
        provider_id = "acme"

``flask --app portal check-provider acme`` runs the same suite from the command line.
"""
from __future__ import annotations

import re

from portal.testing.conformance import ConformanceSuite

__all__ = ["ConformanceSuite", "csrf_token", "login", "seed_demo_and_login"]


def login(client, email, password):
    """Sign in through the real login form (CSRF token taken from the page)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return token


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
