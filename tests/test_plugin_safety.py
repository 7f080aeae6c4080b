"""Safe dispatch: what a plugin may take part in, clashes refused at start-up, a plugin's
bug contained (contract error body / error page naming the provider, logged with its version)."""
from __future__ import annotations

import logging
from datetime import datetime
from types import SimpleNamespace

import pytest
from flask import Blueprint

from portal import plugins as plugin_loading
from portal.plugins import PluginConflict, hookimpl, make_plugin_manager
from portal.providers import Providers
from portal.rules import JST, Deadline, DeadlineQuery, Exam, Msg, ProviderInfo

EXAM_START = datetime(2026, 12, 10, 10, 0, tzinfo=JST)


class Answerer:
    """Not a provider, yet answers a rule hook: would answer every provider's questions."""

    @hookimpl
    def provider_deadlines(self, ctx, query):
        return [Deadline("change", EXAM_START, "ROGUE", Msg("勝手", "rogue"))]


class Broken:
    """A provider whose code has a bug in its quote and in its own page."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="broken", name=Msg("壊れた試験", "Broken Exams"), exams=(Exam("B1", "B one"),),
                            deadline_kinds=("change",))

    @hookimpl
    def provider_quote(self, ctx, query):
        return {}["no such key"]

    @hookimpl
    def provider_deadlines(self, ctx, query):
        return [Deadline("change", query.exam_start, "BRK-1", Msg("期限", "deadline"))]

    @hookimpl
    def portal_blueprints(self):
        bp = Blueprint("broken", __name__, url_prefix="/broken")

        @bp.get("/page")
        def page():
            return 1 / 0
        return [bp]


def _fake_entry_points(monkeypatch, *eps):
    monkeypatch.setattr(plugin_loading, "entry_points", lambda group: list(eps))


def _ep(name, plugin, value, dist, version):
    return SimpleNamespace(name=name, value=value, dist=SimpleNamespace(name=dist, version=version), load=lambda: plugin)


def test_a_non_provider_plugin_answering_a_rule_hook_fails_start_up():
    with pytest.raises(PluginConflict, match="provider_deadlines.*wrapper=True"):
        Providers(make_plugin_manager(only=(), extra=[Answerer()]))


def test_two_entry_points_with_one_name_fail_start_up_naming_both(monkeypatch):
    _fake_entry_points(monkeypatch, _ep("broken", Broken(), "a.plugin", "dist-a", "1.0"),
                       _ep("broken", Broken(), "b.plugin", "dist-b", "2.0"))
    with pytest.raises(PluginConflict, match=r"named 'broken'.*dist-a.*dist-b"):
        make_plugin_manager()


def test_two_plugins_declaring_one_provider_id_name_both_in_the_message(monkeypatch):
    _fake_entry_points(monkeypatch, _ep("one", Broken(), "a.plugin", "dist-a", "1.0"),
                       _ep("two", Broken(), "b.plugin", "dist-b", "2.0"))
    with pytest.raises(PluginConflict, match=r"provider 'broken': one 1.0 and two 2.0"):
        Providers(make_plugin_manager())


def test_versions_come_from_the_distribution_metadata():
    pm = make_plugin_manager()
    from importlib.metadata import entry_points, version
    for ep in entry_points(group="exam_portal"):
        assert pm.records[ep.name].version == version(ep.dist.name)
        assert pm.records[ep.name].distribution == ep.dist.name


@pytest.fixture
def broken_app(make_app, monkeypatch):
    _fake_entry_points(monkeypatch, _ep("broken", Broken(), "broken.plugin", "exam-portal-broken", "0.3.1"))
    return make_app(EXAM_PORTAL_PLUGINS=None)


def test_a_plugin_exception_is_the_contracts_error_body_and_logged_with_name_and_version(broken_app, caplog):
    client = broken_app.test_client()
    with caplog.at_level(logging.ERROR, logger="portal.plugins"):
        response = client.post("/api/v1/providers/broken/quote", json={"items": []}, headers={"Accept-Language": "en"})
    assert response.status_code == 502
    assert response.get_json() == {"error": {
        "code": "provider_error", "field": None,
        "message": "The Broken Exams plugin (broken 0.3.1) failed internally. Please try again later."}}
    record = next(r for r in caplog.records if r.name == "portal.plugins")
    assert "broken 0.3.1" in record.getMessage() and "provider_quote" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is KeyError


def test_a_crash_in_a_plugins_page_is_an_error_page_naming_the_provider(broken_app, org_factory, caplog):
    from conftest import login
    client = broken_app.test_client()
    _, _, email, password = org_factory()
    login(client, email, password)
    response = client.get("/broken/page?lang=en")
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "Broken Exams" in page and "broken 0.3.1" in page and "Traceback" not in page


def test_admin_installed_providers_page_lists_plugin_version_hooks_and_state(broken_app, org_factory):
    from conftest import login
    client = broken_app.test_client()
    _, _, email, password = org_factory()
    login(client, email, password)
    page = client.get("/admin/providers?lang=en").get_data(as_text=True)
    row = page[page.index('data-provider="broken"'):]
    row = row[:row.index("</tr>")]
    assert "exam-portal-broken 0.3.1" in row and "provider_quote" in row and "portal_blueprints" in row
    assert 'data-enabled="true"' in row
