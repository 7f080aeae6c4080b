"""One translation domain per plugin: every page in English, with all plugins and with each
plugin alone, translates each string in the catalog of the package whose template holds it
(the core's "キャンセル" stays "Cancel" whatever a plugin calls it)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from conftest import seed_demo_and_login
from portal import i18n, translations_tool

ROOT = Path(__file__).resolve().parent.parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PLUGIN_NAMES = sorted(ep.name for ep in entry_points(group="exam_portal"))
MAX_PAGES = 120


def _catalog(package: Path) -> dict[str, str]:
    po = translations_tool.catalog_path(package, "en")
    if not po.exists():
        return {}
    return {m.id: m.string for m in read_po(po.open("rb")) if m.id and isinstance(m.id, str) and m.string}


CORE = _catalog(ROOT / "portal")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._data_tag: str | None = None
        self._data_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if self._data_tag is not None:
            self._data_depth += tag == self._data_tag
        elif dict(attrs).get("translate") == "no":  # data the page marks as such (audited values)
            self._data_tag, self._data_depth = tag, 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == self._data_tag:
            self._data_depth -= 1
            if self._data_depth == 0:
                self._data_tag = None

    def handle_data(self, data):
        if not self._skip and self._data_tag is None and data.strip():
            self.texts.append(data.strip())


def _crawl(client):
    """Every page reachable from the dashboard and the admin menu (GET, HTML), in English."""
    client.get("/language")  # noqa: the POST below needs a page first
    todo = ["/dashboard", "/admin/users", "/admin/providers", "/candidates", "/calendar"]
    seen: set[str] = set()
    pages = {}
    while todo and len(pages) < MAX_PAGES:
        url = todo.pop(0)
        path = urlsplit(url).path
        if path in seen or not path.startswith("/") or path.startswith(("/api/", "/static/", "/logout")):
            continue
        seen.add(path)
        response = client.get(url)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        parser = _Text()
        parser.feed(html)
        pages[url] = parser.texts
        todo += [link for link in parser.links if link.startswith("/")]
    return pages


@pytest.mark.parametrize("selection", [None, *PLUGIN_NAMES], ids=lambda s: s or "all")
def test_every_page_in_english_translates_each_string_in_its_own_domain(make_app, selection, monkeypatch):
    app = make_app(EXAM_PORTAL_PLUGINS=selection)  # None: every installed plugin
    providers = app.extensions["exam_portal.providers"]
    if selection:
        assert set(providers.ids()) == {selection, "sample"}
    plugin_catalogs = {str(f.resolve() / "templates"): _catalog(f) for f in providers.plugin_folders()}
    client, _ = seed_demo_and_login(app)
    from conftest import csrf_token
    client.post("/language", data={"lang": "en", "next": "/dashboard", "csrf_token": csrf_token(client)})
    trace: list[tuple[str, str, str]] = []
    monkeypatch.setattr(i18n, "TRACE", trace)
    pages = _crawl(client)
    assert len(pages) > 10, sorted(pages)

    wrong = []
    for filename, msgid, text in trace:
        catalog = next((c for root, c in plugin_catalogs.items() if str(Path(filename).resolve()).startswith(root)), None)
        expected = (catalog or {}).get(msgid) or CORE.get(msgid)
        if expected is None and JAPANESE.search(msgid):
            wrong.append(("untranslated", filename, msgid, text))
        elif expected is not None and text != expected:
            wrong.append(("wrong domain", filename, msgid, text))
    assert not wrong, sorted(set(wrong))[:10]
    assert any(msgid == "キャンセル" for _, msgid, _ in trace) or selection, "the crawl never met the core's キャンセル"

    japanese_ids = {m for m in CORE if JAPANESE.search(m)}
    adapter = app.url_map.bind("localhost")
    for url, texts in pages.items():
        if adapter.match(urlsplit(url).path)[0].split(".")[0] in providers:
            continue  # a plugin's own page: its texts may be its data (e.g. a manual's column names)
        untranslated = [t for t in texts if t in japanese_ids]
        assert not untranslated, (url, untranslated[:5])


def test_core_cancel_stays_cancel_with_a_plugin_calling_it_cancellation(make_app):
    """cbt_ipa and jstc_group translate キャンセル as "Cancellation"; the core's own "Cancel"."""
    assert CORE["キャンセル"] == "Cancel"
    app = make_app(EXAM_PORTAL_PLUGINS=None)
    with app.test_request_context("/?lang=en"):
        from flask import render_template_string
        from flask_babel import refresh
        refresh()
        assert render_template_string("{{ _('キャンセル') }}") == "Cancel"


def _translator_calling_cancel_call_off(tmp_path):
    """A plugin package folder whose English catalog says キャンセル → "Call off", and its translator."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from portal.sdk import plugin_translator
    folder = tmp_path / "acme_words"
    (folder / "translations" / "en" / "LC_MESSAGES").mkdir(parents=True)
    catalog = Catalog(locale="en")
    catalog.add("キャンセル", "Call off")
    with (folder / "translations" / "en" / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    return plugin_translator(folder)


def test_plugin_python_code_translates_in_its_own_domain_with_the_core_as_fallback(make_app, tmp_path):
    from flask_babel import gettext, refresh

    translator = _translator_calling_cancel_call_off(tmp_path)
    app = make_app()
    with app.test_request_context("/?lang=en"):
        refresh()
        assert translator.gettext("キャンセル") == "Call off"
        assert gettext("キャンセル") == "Cancel"  # the core's own domain is untouched
        assert translator.gettext("ログアウト") == CORE["ログアウト"]  # not in the plugin's catalog: the core's
    with app.test_request_context("/"):
        refresh()
        assert translator.gettext("キャンセル") == "キャンセル"  # Japanese is the source language


def test_force_locale_switches_both_domains_and_back_within_one_request(make_app, tmp_path):
    """The catalogs a request remembers (portal.i18n._catalog) follow force_locale (the ICS
    feed and e-mails render in their owner's language inside another request)."""
    from flask_babel import force_locale, gettext, refresh

    translator = _translator_calling_cancel_call_off(tmp_path)
    app = make_app()
    with app.test_request_context("/"):
        refresh()
        assert (translator.gettext("キャンセル"), gettext("キャンセル")) == ("キャンセル", "キャンセル")
        with force_locale("en"):
            assert (translator.gettext("キャンセル"), translator.gettext("ログアウト")) == ("Call off", CORE["ログアウト"])
            assert gettext("キャンセル") == "Cancel"
            with force_locale("ja"):
                assert translator.gettext("キャンセル") == "キャンセル"
            assert translator.gettext("キャンセル") == "Call off"
        assert translator.gettext("キャンセル") == "キャンセル"
        assert translator.gettext("ログアウト") == "ログアウト"
