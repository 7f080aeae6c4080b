"""The SDK reference headings: one per exported name of :mod:`portal.sdk` (functions with
their exact signature), as ``docs/plugins.md`` must show them (a test checks)."""
from __future__ import annotations

import inspect


def _heading(name: str, obj: object) -> str:
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        try:
            return f"`{name}{inspect.signature(obj)}`".replace("'", "")
        except (TypeError, ValueError):  # pragma: no cover
            pass
    return f"`{name}`"


def headings() -> list[tuple[str, str, object]]:
    """(heading, name, object) for every exported name and submodule member."""
    from types import ModuleType

    from portal import sdk
    rows = []
    for name in sdk.__all__:
        obj = getattr(sdk, name)
        if isinstance(obj, ModuleType):
            rows.append((f"`{name}`", name, obj))
            for member in obj.__all__:
                value = getattr(obj, member)
                rows.append((_heading(f"{name}.{member}", value), f"{name}.{member}", value))
        else:
            rows.append((_heading(name, obj), name, obj))
    return rows


def first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()
