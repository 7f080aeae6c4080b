"""Loading plugins: the ``exam_portal`` entry-point group, filtered by an env variable."""
from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Iterable

import pluggy

from portal import hookspecs

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)

#: Comma-separated entry-point names to load (all when unset or empty). Tests use it.
PLUGINS_ENV = "EXAM_PORTAL_PLUGINS"


def enabled_names(env: str | None = None) -> set[str] | None:
    value = os.environ.get(PLUGINS_ENV, "") if env is None else env
    names = {n.strip() for n in value.split(",") if n.strip()}
    return names or None


def make_plugin_manager(only: Iterable[str] | None = None, extra: Iterable[object] = ()) -> pluggy.PluginManager:
    """A plugin manager with the entry-point plugins (``only`` those names, if given)
    plus ``extra`` plugin objects. ``check_pending()`` makes a misspelled hook fail here."""
    from portal.default_plugins import DEFAULT_PLUGINS

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in DEFAULT_PLUGINS:
        pm.register(plugin, name=f"portal.default.{plugin.__name__.rsplit('.', 1)[-1]}")
    wanted = set(only) if only is not None else enabled_names()
    for ep in entry_points(group=hookspecs.PROJECT):
        if wanted is not None and ep.name not in wanted:
            continue
        if pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    return pm
