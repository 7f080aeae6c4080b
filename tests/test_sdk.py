"""portal.sdk is the plugin authors' module: every exported name exists and is documented in
docs/plugins.md with its exact signature (as the hooks are)."""
from __future__ import annotations

import re
from pathlib import Path

from portal import sdk, sdk_reference

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def test_every_exported_name_exists():
    assert len(set(sdk.__all__)) == len(sdk.__all__)
    for name in sdk.__all__:
        assert hasattr(sdk, name), name


def test_every_exported_name_is_documented_with_its_exact_signature():
    missing, empty = [], []
    for heading, name, _ in sdk_reference.headings():
        match = re.search(rf"^### {re.escape(heading)}\n(.*)$", DOCS, re.M)
        if match is None:
            missing.append(heading)
        elif len(match.group(1).strip()) < 10:
            empty.append(name)
    assert missing == [], f"docs/plugins.md lacks: {missing[:10]}"
    assert empty == [], f"documented without a description: {empty}"


def test_the_reference_names_nothing_the_sdk_does_not_export():
    documented = set(re.findall(r"^### `([A-Za-z_][\w.]*)", DOCS, re.M))
    exported = {name for _, name, _ in sdk_reference.headings()}
    from portal import hookspecs
    hooks = {n for n in dir(hookspecs) if n.startswith(("provider_", "portal_"))}
    assert documented - exported - hooks == set()


def _core_imports(path: Path) -> list[str]:
    import ast
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        for module in modules:
            if module == "portal" and isinstance(node, ast.ImportFrom):
                module = ", ".join(f"portal.{a.name}" for a in node.names)
            if module.split(".")[0] == "portal" and not (module == "portal.sdk" or module.startswith("portal.sdk.")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    return found


def test_bundled_plugins_import_no_core_module_but_the_sdk():
    """An outside author can tell what is stable: the bundled plugins (their code and
    migrations; their tests may also use portal.testing) import nothing else of the core."""
    sources = [p for p in ROOT.glob("plugins/*/**/*.py") if "tests" not in p.relative_to(ROOT).parts]
    assert len(sources) > 20
    offenders = [hit for path in sources for hit in _core_imports(path)]
    assert offenders == [], "\n".join(offenders)


def test_the_import_check_sees_every_form_of_import(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    sample = tmp_path / "x.py"
    sample.write_text("import portal.db\nfrom portal import bookings\nfrom portal.rules import Msg\n"
                      "from portal.sdk import db\nfrom portal.sdk.parse import items_list\ndef f():\n    from portal.models import User\n")
    assert [hit.split(": ", 1)[1] for hit in _core_imports(sample)] == [
        "portal.db", "portal.bookings", "portal.rules", "portal.models"]
