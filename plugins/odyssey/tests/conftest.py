"""Fixtures of the Odyssey tests (the repo-root conftest provides the database ones)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def api():
    """A client of the stateless rules API (no database is touched)."""
    from portal import create_app
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})
    return app.test_client()


@pytest.fixture(scope="module")
def post(api):
    def call(what: str, body: dict, lang: str = "ja"):
        response = api.post(f"/api/v1/providers/odyssey/{what}?lang={lang}", json=body)
        return response.status_code, response.get_json()
    return call
