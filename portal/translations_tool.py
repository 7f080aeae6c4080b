"""Translation catalogs: one for the core and one per plugin package (plugins/<id>/translations),
merged at run time by Flask-Babel. ``flask --app portal translations`` extracts, updates
and compiles them; English strings are then filled in the .po files."""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
LOCALES = ("en",)


def method_map(package: Path, root: Path) -> list[tuple[str, str]]:
    if package.name == "portal":
        return [("portal/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    rel = package.relative_to(root).as_posix()
    return [(f"{rel}/**.py", "python"), (f"{rel}/templates/**.html", "jinja2")]


def extract(package: Path, root: Path) -> Catalog:
    catalog = Catalog()
    if package.name != "portal" and not package.resolve().is_relative_to(root.resolve()):
        root, mapping = package, [("**.py", "python"), ("templates/**.html", "jinja2")]  # an outside package
    else:
        mapping = method_map(package, root)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map=mapping, keywords=KEYWORDS):
        if package.name != "portal" or not filename.startswith("plugins/"):
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_path(package: Path, locale: str) -> Path:
    return package / "translations" / locale / "LC_MESSAGES" / "messages.po"


def update(package: Path, root: Path) -> list[str]:
    """Update (or create) the package's catalogs and compile them; returns untranslated ids."""
    template = extract(package, root)
    missing: list[str] = []
    for locale in LOCALES:
        po = catalog_path(package, locale)
        if po.exists():
            catalog = read_po(po.open("rb"), locale=locale)
            catalog.update(template, no_fuzzy_matching=True)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale)
            catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with po.open("wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False, sort_output=True)
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
        missing += [m.id for m in catalog if m.id and not m.string]
    return missing
