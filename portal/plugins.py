"""Loading plugins: the ``exam_portal`` entry-point group, filtered by an env variable.

Every loaded plugin gets a :class:`PluginRecord` (its entry-point name, distribution and
version), so that logs and the admin's "installed providers" page can say which code
answered. Two entry points with one name fail start-up: silently keeping either would
make the portal's answers depend on installation order.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Iterable

import pluggy

from portal import hookspecs

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)

#: Comma-separated entry-point names to load (all when unset or empty). Tests use it.
PLUGINS_ENV = "EXAM_PORTAL_PLUGINS"


class PluginConflict(RuntimeError):
    """Start-up refused: two plugins claim one name (entry point or provider id), or a
    plugin breaks a rule of the contract. The message says which and how to fix it."""


@dataclass(frozen=True)
class PluginRecord:
    """What is known about one loaded plugin."""

    name: str  # the entry-point name (or pluggy's name for a plugin object)
    module: str  # the Python module holding its hooks
    distribution: str | None = None  # the installed package that declared it
    version: str | None = None
    source: str = "entry point"  # "entry point" | "built in" | "passed to create_app"

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


class PortalPluginManager(pluggy.PluginManager):
    """pluggy's manager plus a :class:`PluginRecord` for each plugin."""

    def __init__(self, project_name: str):
        super().__init__(project_name)
        self.records: dict[str, PluginRecord] = {}

    def record_of(self, plugin: object) -> PluginRecord:
        return self.records[self.get_name(plugin)]


def enabled_names(env: str | None = None) -> set[str] | None:
    value = os.environ.get(PLUGINS_ENV, "") if env is None else env
    names = {n.strip() for n in value.split(",") if n.strip()}
    return names or None


def module_name(plugin: object) -> str:
    return plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__


def _version_of(module: str) -> str | None:
    version = getattr(sys.modules.get(module.split(".", 1)[0]), "__version__", None)
    return str(version) if version else None


def make_plugin_manager(only: Iterable[str] | None = None, extra: Iterable[object] = ()) -> PortalPluginManager:
    """A plugin manager with the entry-point plugins (``only`` those names, if given)
    plus ``extra`` plugin objects. ``check_pending()`` makes a misspelled hook fail here."""
    from portal.default_plugins import DEFAULT_PLUGINS

    pm = PortalPluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in DEFAULT_PLUGINS:
        name = f"portal.default.{plugin.__name__.rsplit('.', 1)[-1]}"
        pm.register(plugin, name=name)
        pm.records[name] = PluginRecord(name, plugin.__name__, "exam-portal", _portal_version(), "built in")
    wanted = set(only) if only is not None else enabled_names()
    seen: dict[str, str] = {}
    for ep in entry_points(group=hookspecs.PROJECT):
        dist = ep.dist.name if ep.dist is not None else None
        where = f"{ep.value} ({dist or 'unknown distribution'})"
        if ep.name in seen:
            if seen[ep.name] == where:
                continue  # one distribution seen twice on sys.path
            raise PluginConflict(
                f"two exam_portal entry points are named {ep.name!r}: {seen[ep.name]} and {where}. "
                f"Uninstall one, or rename the entry point in its pyproject.toml.")
        seen[ep.name] = where
        if wanted is not None and ep.name not in wanted:
            continue
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
        pm.records[ep.name] = PluginRecord(ep.name, module_name(plugin), dist,
                                           ep.dist.version if ep.dist is not None else None)
    for plugin in extra:
        name = pm.register(plugin)
        pm.records[name] = PluginRecord(name, module_name(plugin), None, _version_of(module_name(plugin)),
                                        "passed to create_app")
    pm.check_pending()
    return pm


def _portal_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("exam-portal")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return None
