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
