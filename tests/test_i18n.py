"""Japanese by default, English on request; the English catalog is complete and compiled."""
import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _extracted_ids():
    method_map = [("portal/**.py", "python"), ("plugins/**.py", "python"),
                  ("templates/**.html", "jinja2"), ("plugins/**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map=method_map, keywords=keywords):
        yield message if isinstance(message, str) else message[0]


def test_every_ui_string_has_an_english_translation():
    catalog = read_po(PO.open("rb"))
    missing = sorted({m for m in _extracted_ids() if not (catalog.get(m) and catalog.get(m).string)})
    assert missing == [], f"run `make translations` and translate: {missing[:10]}"


def test_compiled_catalog_matches_the_po_file():
    catalog = read_po(PO.open("rb"))
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for message in catalog:
        if message.id and message.string and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id


def test_japanese_by_default_and_english_toggle(logged_in):
    client, _, _, token = logged_in
    page = client.get("/providers/prometric").get_data(as_text=True)
    assert "ルール計算" in page and 'lang="ja"' in page
    client.post("/language", data={"lang": "en", "next": "/providers/prometric", "csrf_token": token})
    page = client.get("/providers/prometric").get_data(as_text=True)
    assert "Rule calculator" in page and 'lang="en"' in page
    result = client.post("/providers/prometric/calculate", headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"},
                         data={"exam_start": "2027-01-05T10:00", "first_booked_at": "2026-11-01T10:00",
                               "payment_method": "credit_card"}).get_data(as_text=True)
    assert "business days" in result and "Change deadline" in result


def test_browser_language_does_not_override_the_japanese_default(logged_in):
    client = logged_in[0]
    page = client.get("/providers/prometric", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert 'lang="ja"' in page
