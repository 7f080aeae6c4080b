"""``flask --app portal new-provider ID --path DIR``: an installable provider package to
start from — pyproject with the ``exam_portal`` entry point, plugin module, rules with rule
IDs, catalog data, panel template, English catalog and tests (its rules and the portal's
conformance kit), which passes the kit as written."""
from __future__ import annotations

import re
from pathlib import Path
from string import Template

from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

FILES = Path(__file__).parent / "files"
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,30}")

#: English of the panel template's strings (the scaffold's own catalog).
PANEL_EN = {
    "申込は試験の7営業日前まで、変更・キャンセルは3営業日前までです。":
        "Applications close 7 business days before the exam; changes and cancellations 3 business days before.",
    "受験料はカタログの価格×受験者数です。": "The fee is the catalog price × the number of candidates.",
}


class ScaffoldError(ValueError):
    pass


def _target(relative: Path, provider_id: str) -> Path:
    parts = list(relative.with_suffix("").parts)  # drop ".tmpl"
    if parts[0] == "package":
        parts[0] = provider_id
        if parts[1:3] == ["templates", "partials"]:
            parts[1:3] = ["templates", provider_id, "partials"]
    return Path(*parts)


def new_provider(provider_id: str, path: Path, name_ja: str | None = None, name_en: str | None = None) -> list[Path]:
    """Write the package for ``provider_id`` into ``path`` (which must not hold one yet)."""
    if not ID_PATTERN.fullmatch(provider_id):
        raise ScaffoldError(f"{provider_id!r}: a provider id is a lower-case identifier (letters, digits, _)")
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise ScaffoldError(f"{path} is not empty")
    words = provider_id.replace("_", " ").title()
    values = {
        "provider_id": provider_id, "package": provider_id, "dist_name": f"exam-portal-{provider_id.replace('_', '-')}",
        "prefix": re.sub(r"[^A-Z0-9]", "", provider_id.upper())[:6], "name_en": name_en or words,
        "name_ja": name_ja or f"{words}試験",
    }
    written = []
    for source in sorted(FILES.rglob("*.tmpl")):
        target = path / _target(source.relative_to(FILES), provider_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(target)
    written += _translations(path / provider_id)
    return written


def _translations(package: Path) -> list[Path]:
    """The package's English catalog, extracted from its own files, compiled."""
    from portal import translations_tool
    catalog = translations_tool.extract(package, package)
    catalog.locale = "en"
    for message in catalog:
        if message.id:
            message.string = PANEL_EN.get(message.id, "")
    po = translations_tool.catalog_path(package, "en")
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fh:
        write_po(fh, catalog, width=120, sort_output=True)
    with po.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, catalog)
    return [po, po.with_suffix(".mo")]
