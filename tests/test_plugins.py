"""The plugin contract: discovery, isolation, adjustment by wrappers, documentation."""
import inspect
import re
from importlib.metadata import entry_points
from datetime import datetime
from pathlib import Path

import pluggy
import pytest
from flask import Blueprint

from portal import hookspecs
from portal.plugins import PLUGINS_ENV, hookimpl, make_plugin_manager
from portal.providers import Providers
from portal.rules import JST, Deadline, DeadlineQuery, Exam, Msg, ProviderInfo

import tests.sample_provider as sample

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, hookspecs.PROJECT + "_spec")}
EXAM_START = datetime(2026, 12, 10, 10, 0, tzinfo=JST)  # Thursday


def test_every_hook_is_documented_with_its_exact_signature():
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert HOOKS, "no hook specs found"
    for name, fn in HOOKS.items():
        assert fn.__doc__ and len(fn.__doc__.strip()) > 40, f"{name} has no docstring"
        signature = f"{name}{inspect.signature(fn)}".replace("'", "")
        assert f"### `{signature}`" in docs, f"docs/plugins.md lacks {signature}"


def test_every_hook_is_exercised_by_a_test():
    sources = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    for name in HOOKS:
        # A call or implementation of the hook (``def name(`` / ``.name(``), not a mention.
        assert re.search(rf"(def |\.){name}\(", text), f"hook {name} is not exercised by any test"


class VenueInternalDeadline:
    """A venue's own deadline: one business day before the provider's (not a provider)."""

    @hookimpl(wrapper=True)
    def provider_deadlines(self, ctx, query):
        deadlines = yield
        return [Deadline(d.kind, datetime.combine(ctx.calendar.business_days_before(d.at.date(), 1).day,
                                                  d.at.timetz()), d.rule + ",VENUE-1",
                         d.explanation + Msg("当校では1営業日前に締め切ります。", "Our venue closes one business day earlier."))
                for d in deadlines]


class Acme:
    """A rogue provider that answers every question, for every provider."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="acme", name=Msg("アクメ", "Acme"), exams=(Exam("A1", "Acme 1"),), deadline_kinds=("change",))

    @hookimpl
    def provider_deadlines(self, ctx, query):
        return [Deadline("change", EXAM_START, "ACME", Msg("アクメ", "acme"))]


def _providers(*extra, only=()):
    """The core's sample provider (tests/sample_provider) plus ``extra``; no installed plugin."""
    return Providers(make_plugin_manager(only=only, extra=(sample, *extra)))


def test_a_wrapper_plugin_moves_a_provider_deadline_one_business_day_earlier():
    plain = _providers()
    adjusted = _providers(VenueInternalDeadline())
    pid = "sample"
    before = plain.deadlines(plain.default_context(pid), DeadlineQuery(None, EXAM_START))
    after = adjusted.deadlines(adjusted.default_context(pid), DeadlineQuery(None, EXAM_START))
    assert [d.kind for d in before] == [d.kind for d in after]
    for b, a in zip(before, after):
        calendar = plain.default_context(pid).calendar
        assert a.at.date() == calendar.business_days_before(b.at.date(), 1).day
        assert a.at.time() == b.at.time() and a.rule.endswith("VENUE-1")


def test_a_question_about_x_is_answered_by_x_alone():
    providers = _providers(Acme())
    answer = providers.deadlines(providers.default_context("sample"), DeadlineQuery(None, EXAM_START))
    assert answer and all(d.rule.startswith("SMP") for d in answer)
    acme = providers.deadlines(providers.default_context("acme"), DeadlineQuery(None, EXAM_START))
    assert [d.rule for d in acme] == ["ACME"]


def test_a_hook_a_provider_does_not_implement_is_not_offered():
    from portal.providers import NotOffered
    from portal.rules import RetakeQuery
    providers = _providers(Acme())
    with pytest.raises(NotOffered):
        providers.retake(providers.default_context("acme"), RetakeQuery("A1", [], EXAM_START))


def test_two_plugins_declaring_one_provider_id_fail_at_start_up():
    class Again(Acme):
        pass
    with pytest.raises(RuntimeError, match="acme"):
        _providers(Acme(), Again())


def test_misspelled_hook_fails_loudly_at_start_up():
    class Typo:
        @hookimpl
        def provider_deadline(self, ctx, query):  # missing "s"
            return []
    with pytest.raises(pluggy.PluginValidationError):
        make_plugin_manager(only=(), extra=[Typo()])


INSTALLED = sorted(ep.name for ep in entry_points(group=hookspecs.PROJECT))


@pytest.mark.parametrize("name", INSTALLED)
def test_environment_variable_limits_which_plugins_load(monkeypatch, name):
    monkeypatch.setenv(PLUGINS_ENV, name)
    assert Providers(make_plugin_manager()).ids() == [name]
    monkeypatch.setenv(PLUGINS_ENV, "no-such-plugin")
    assert Providers(make_plugin_manager()).ids() == []


def test_installed_plugins_are_found_through_the_entry_point_group():
    assert set(INSTALLED) <= set(Providers(make_plugin_manager(only=None)).ids())
    # every bundled plugin package with a plugin.py is declared as an entry point
    bundled = {p.parent.name for p in ROOT.glob("plugins/*/plugin.py")}
    assert bundled <= set(INSTALLED)


@pytest.mark.parametrize("name", INSTALLED)
def test_plugin_templates_folders_are_found_automatically(name):
    providers = Providers(make_plugin_manager(only=(name,)))
    folders = providers.template_folders()
    assert any((f / name).is_dir() for f in folders) or not any(
        (f / "templates").is_dir() for f in providers.plugin_folders() if f.name == name)


def test_the_core_names_no_provider():
    from importlib.metadata import entry_points
    names = {ep.name for ep in entry_points(group=hookspecs.PROJECT)} | {"prometric", "odyssey", "cbt_ipa", "jstc"}
    pattern = re.compile("|".join(sorted(names)), re.IGNORECASE)
    offenders = []
    for folder in ("portal", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".txt", ".toml", ".po") and pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_portal_blueprints_hook_adds_pages_behind_login(make_app, org_factory):
    from conftest import login
    bp = Blueprint("extra_pages", __name__, url_prefix="/p/extra")

    @bp.get("/hello")
    def hello():
        return "hello from a plugin"

    class Pages:
        @hookimpl
        def portal_blueprints(self):
            return [bp]

    app = make_app(plugins=[Pages()])
    client = app.test_client()
    assert client.get("/p/extra/hello").status_code == 302  # anonymous → login
    _, _, email, password = org_factory()
    login(client, email, password)
    assert client.get("/p/extra/hello").get_data(as_text=True) == "hello from a plugin"


class OwnCatalog:
    """A provider keeping its own catalog and stored deadlines."""

    recomputed: list = []

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="own_catalog", name=Msg("独自カタログ", "Own catalog"), exams=(Exam("D1", "既定"),),
                            deadline_kinds=(), catalog_endpoint="web.home")

    @hookimpl
    def provider_catalog(self, ctx, organization_id):
        return [Exam("OWN-1", f"組織{organization_id}の試験", 1234)]

    @hookimpl
    def provider_recompute(self, ctx, organization_id):
        OwnCatalog.recomputed.append((organization_id, [r.label.ja for r in ctx.calendar.closures]))
        return 1


def test_own_catalog_and_recompute_hooks_are_used_by_the_core(make_app, org_factory):
    from conftest import csrf_token, login
    app = make_app(plugins=[OwnCatalog()])
    client = app.test_client()
    org_id, _, email, password = org_factory()
    login(client, email, password)
    token = csrf_token(client)
    page = client.get("/admin/providers/own_catalog/catalog").get_data(as_text=True)
    assert f"組織{org_id}の試験" in page and 'data-exam="OWN-1"' in page and 'href="/"' in page
    r = client.post("/admin/providers/own_catalog/catalog", data={"code": "X", "name": "x"}, headers={"X-CSRFToken": token})
    assert r.status_code == 404  # edited on the provider's own page, not here
    OwnCatalog.recomputed.clear()
    client.post("/admin/providers/own_catalog/closures", data={"label": "臨時休業", "start_date": "2027-03-01"},
                headers={"X-CSRFToken": token})
    assert OwnCatalog.recomputed == [(org_id, ["臨時休業"])]  # the new closure is already in the context


def test_housekeeping_runs_each_plugin_in_its_own_transaction(make_app, org_factory):
    from sqlmodel import select
    from portal import db
    from portal.models import Organization

    class Renamer:
        @hookimpl
        def portal_housekeeping(self, now):
            for org in db.session().exec(select(Organization)).all():
                org.name = "renamed"
            return ["renamed"]

    class Broken:
        @hookimpl
        def portal_housekeeping(self, now):
            for org in db.session().exec(select(Organization)).all():
                org.name = "half-done"
            db.session().flush()
            raise RuntimeError("boom")

    app = make_app(plugins=[Renamer(), Broken()])
    org_factory()
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code != 0 and "boom" in result.output
    with app.app_context():
        assert [o.name for o in db.session().exec(select(Organization)).all()] == ["renamed"]
