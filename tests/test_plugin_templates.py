"""Plugin templates are searched before the core's (a plugin may override a core template,
as in datasette) and a plugin package may ship static files."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pytest


@pytest.fixture
def overriding_plugin(tmp_path, monkeypatch):
    package = tmp_path / "venue_look"
    (package / "templates" / "admin" / "partials").mkdir(parents=True)
    (package / "static").mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        from portal.plugins import hookimpl
        from portal.rules import Exam, Msg, ProviderInfo

        @hookimpl
        def provider_info():
            return ProviderInfo(id="venue_look", name=Msg("会場", "Venue"), exams=(Exam("V1", "V one"),),
                                deadline_kinds=())
    '''))
    core_nav = (__import__("pathlib").Path(__file__).resolve().parent.parent / "templates" / "admin" / "partials"
                / "nav.html").read_text(encoding="utf-8")
    (package / "templates" / "admin" / "partials" / "nav.html").write_text(
        '<p id="venue-nav">{{ _("キャンセル") }}</p>' + core_nav, encoding="utf-8")
    (package / "static" / "venue.css").write_text("body { color: teal }")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("venue_look")
    yield module
    sys.modules.pop("venue_look", None)


def test_a_plugin_template_overrides_the_core_one(make_app, overriding_plugin, org_factory):
    from conftest import login
    app = make_app(plugins=[overriding_plugin])
    client = app.test_client()
    _, _, email, password = org_factory()
    login(client, email, password)
    page = client.get("/admin/users?lang=en").get_data(as_text=True)
    assert '<p id="venue-nav">Cancel</p>' in page  # no catalog of its own: the core's translation


def test_a_plugin_ships_static_files(make_app, overriding_plugin):
    app = make_app(plugins=[overriding_plugin])
    client = app.test_client()
    with app.test_request_context():
        from flask import url_for
        url = url_for("web.plugin_static", provider_id="venue_look", filename="venue.css")
    assert url == "/plugins/venue_look/static/venue.css"
    response = client.get(url)
    assert response.status_code == 200 and b"teal" in response.data
    assert client.get("/plugins/venue_look/static/../__init__.py").status_code == 404
    assert client.get("/plugins/prometric-none/static/venue.css").status_code == 404
