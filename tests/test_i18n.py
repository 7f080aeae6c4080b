"""Japanese by default, English on request; every package's English catalog is complete
and compiled (the core's in portal/translations, each plugin's in its own package)."""
import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import csrf_token
from portal import translations_tool

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [ROOT / "portal", *sorted(p.parent for p in ROOT.glob("plugins/*/plugin.py"))]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_ui_string_has_an_english_translation(package):
    ids = {m.id for m in translations_tool.extract(package, ROOT) if m.id}
    if not ids:
        return
    po = translations_tool.catalog_path(package, "en")
    assert po.exists(), f"{po} missing: run `flask --app portal translations`"
    catalog = read_po(po.open("rb"))
    missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    assert missing == [], f"translate in {po.relative_to(ROOT)}: {missing[:10]}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_compiled_catalog_matches_the_po_file(package):
    po = translations_tool.catalog_path(package, "en")
    if not po.exists():
        return
    compiled = gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))
    for message in read_po(po.open("rb")):
        if message.id and message.string and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id


def test_the_core_catalog_holds_no_plugin_strings():
    text = translations_tool.catalog_path(ROOT / "portal", "en").read_text(encoding="utf-8")
    assert "plugins/" not in text


def test_japanese_by_default_and_english_toggle(logged_in):
    client, _, _, token = logged_in
    page = client.get("/providers/sample").get_data(as_text=True)
    assert "ルール計算" in page and 'lang="ja"' in page and "サンプル検定" in page
    client.post("/language", data={"lang": "en", "next": "/providers/sample", "csrf_token": token})
    page = client.get("/providers/sample").get_data(as_text=True)
    assert "Rule calculator" in page and 'lang="en"' in page and "Sample Test" in page
    result = client.post("/providers/sample/calculate", headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"},
                         data={"exam": "S1", "exam_start": "2027-01-05T10:00"}).get_data(as_text=True)
    assert "business days" in result and "Application deadline" in result


def test_browser_language_does_not_override_the_japanese_default(logged_in):
    client = logged_in[0]
    page = client.get("/providers/sample", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert 'lang="ja"' in page
