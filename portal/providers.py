"""The provider registry: who answers which question, and with what calendar.

A rule question about provider X goes to X's own plugin only (the other providers'
plugins are left out of the call), while non-provider plugins may still wrap the answer.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Mapping

import pluggy

from portal.business_days import BusinessCalendar
from portal.plugins import PluginConflict
from portal.rules import (
    AttemptRecord, BookingDecision, BookingFacts, DueItem, SessionItem,
    ClosureRule, Deadline, DeadlineQuery, Exam, PolicyDecision, PolicyFacts, ProviderInfo, Quote,
    QuoteQuery, RetakeDecision, RetakeQuery, RuleError, UnknownExam, UnknownProvider, Msg,
)

RULE_HOOKS = ("provider_deadlines", "provider_quote", "provider_retake", "provider_policy", "provider_booking_decision")
#: Hooks a provider answers for itself alone: a plugin that is not a provider may only wrap them.
PROVIDER_ONLY_HOOKS = (*RULE_HOOKS, "provider_catalog")

log = logging.getLogger("portal.plugins")


class PluginFailure(RuleError):
    """A plugin raised something other than a :class:`RuleError`: a bug in the plugin.
    The API answers the contract's error body (502), the web an error page naming the
    provider; the traceback is logged with the plugin's name and version."""

    status = 502

    def __init__(self, provider: str, provider_name: Msg, plugin: str):
        super().__init__(
            "provider_error",
            Msg(f"{provider_name.ja} のプラグイン({plugin})で内部エラーが起きました。時間をおいて再度お試しください。",
                f"The {provider_name.en} plugin ({plugin}) failed internally. Please try again later."),
            None,
        )
        self.provider = provider
        self.plugin = plugin


class NotOffered(RuleError):
    status = 404

    def __init__(self, provider: str, what: str):
        super().__init__(
            "not_offered",
            Msg(f"{provider} はこの種類の質問({what})に答えません。", f"{provider} does not answer {what} questions."),
            None,
        )


@dataclass(frozen=True)
class RuleContext:
    """What a rule hook gets besides the question: the provider, its calendar, settings
    and exam catalog (the database copy when an organisation edited it)."""

    provider: ProviderInfo
    calendar: BusinessCalendar
    settings: Mapping[str, Any] = field(default_factory=dict)
    exams: tuple[Exam, ...] = ()

    def exam(self, code: str | None, field_name: str = "exam") -> Exam:
        for exam in self.exams or self.provider.exams:
            if exam.code == code:
                return exam
        raise UnknownExam(code, field_name)

    def setting(self, key: str) -> Any:
        if key in self.settings:
            return self.settings[key]
        for s in self.provider.settings:
            if s.key == key:
                return s.default
        raise KeyError(key)


@dataclass(frozen=True)
class InstalledProvider:
    info: ProviderInfo
    record: Any  # portal.plugins.PluginRecord
    hooks: tuple[str, ...]
    templates: tuple[str, ...]


def _folder_of(plugin: object) -> Path | None:
    module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
    module_file = getattr(module, "__file__", None)
    return Path(module_file).parent if module_file else None


class Providers:
    """Every installed provider, keyed by id, with per-provider hook callers."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self._infos: dict[str, ProviderInfo] = {}
        self._plugins: dict[str, object] = {}
        for impl in pm.hook.provider_info.get_hookimpls():
            info = impl.function()
            if info is None:
                continue
            if info.id in self._infos:
                raise PluginConflict(
                    f"two plugins declare provider {info.id!r}: {self._label(self._plugins[info.id])} and "
                    f"{self._label(impl.plugin)}. Load one of them (EXAM_PORTAL_PLUGINS) or uninstall the other.")
            self._infos[info.id] = info
            self._plugins[info.id] = impl.plugin
        self._check_non_providers_only_wrap()
        self._callers: dict[tuple[str, str], Any] = {}
        self._default_calendars: dict[str, BusinessCalendar] = {}
        self._words: dict[tuple[str, str | None, str], str] = {}

    def _label(self, plugin: object) -> str:
        records = getattr(self.pm, "records", {})
        name = self.pm.get_name(plugin)
        return records[name].label if name in records else str(name)

    def _check_non_providers_only_wrap(self) -> None:
        """A plugin without ``provider_info`` takes part in every provider's questions, so
        it may only adjust an answer (a wrapper), never give one for all providers."""
        providers = set(map(id, self._plugins.values()))
        for hook in PROVIDER_ONLY_HOOKS:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if id(impl.plugin) in providers or impl.wrapper or impl.hookwrapper:
                    continue
                raise PluginConflict(
                    f"plugin {self._label(impl.plugin)} implements {hook} but declares no provider "
                    f"(provider_info): it would answer every provider's questions. Implement provider_info, "
                    f"or wrap the hook with @hookimpl(wrapper=True) to adjust the provider's answer.")

    def plugin_of(self, provider_id: str) -> object:
        """The plugin object declaring ``provider_id``."""
        self.info(provider_id)
        return self._plugins[provider_id]

    def record_of(self, provider_id: str):
        """The :class:`portal.plugins.PluginRecord` of the plugin declaring ``provider_id``."""
        return self.pm.record_of(self.plugin_of(provider_id))

    def hooks_of(self, plugin: object) -> list[str]:
        """The hooks a plugin implements (for the admin's installed-providers page)."""
        return sorted(impl_hook.name for impl_hook in self.pm.get_hookcallers(plugin) or ())

    def installed(self) -> list["InstalledProvider"]:
        """Every provider with its plugin's record, hooks and templates (admin page)."""
        rows = []
        for provider_id, plugin in self._plugins.items():
            folder = _folder_of(plugin)
            templates = sorted(str(p.relative_to(folder / "templates")) for p in (folder / "templates").rglob("*.html")) \
                if folder is not None and (folder / "templates").is_dir() else []
            rows.append(InstalledProvider(self._infos[provider_id], self.record_of(provider_id),
                                          tuple(self.hooks_of(plugin)), tuple(templates)))
        return rows

    # ----------------------------------------------------------------- description
    def ids(self) -> list[str]:
        return list(self._infos)

    def all(self) -> list[ProviderInfo]:
        return list(self._infos.values())

    def info(self, provider_id: str) -> ProviderInfo:
        try:
            return self._infos[provider_id]
        except KeyError:
            raise UnknownProvider(provider_id) from None

    def __contains__(self, provider_id: str) -> bool:
        return provider_id in self._infos

    def word(self, key: str, provider_id: str | None, lang: str) -> str:
        """A provider's label of one of its words in ``lang``: the named provider's, else the
        first installed provider that has the word, else the key itself. Remembered per
        process (the vocabulary is fixed at start-up): pages ask once per listed row."""
        found = self._words.get((key, provider_id, lang))
        if found is None:
            infos = [self._infos[provider_id]] if provider_id in self._infos else self._infos.values()
            label = next((info.label(key) for info in infos if info.label(key) is not None), None)
            found = self._words[(key, provider_id, lang)] = label.text(lang) if label is not None else key
        return found

    def name(self, provider_id: str, lang: str) -> str:
        """The provider's display name in ``lang`` (the id itself for one not installed)."""
        info = self._infos.get(provider_id)
        return info.name.text(lang) if info is not None else provider_id

    def plugin_folders(self) -> list[Path]:
        """The package folder of every registered plugin (module or object)."""
        folders: list[Path] = []
        for plugin in self.pm.get_plugins():
            folder = _folder_of(plugin)
            if folder is not None and folder not in folders:
                folders.append(folder)
        return folders

    def template_folders(self) -> list[Path]:
        """``templates/`` folders of the plugin packages, found automatically."""
        return [f / "templates" for f in self.plugin_folders() if (f / "templates").is_dir()]

    def static_folder(self, provider_id: str) -> Path | None:
        """The ``static/`` folder of a provider's plugin package, served at
        ``/plugins/<provider id>/static/<file>`` (``url_for('plugin_static', ...)``)."""
        folder = _folder_of(self.plugin_of(provider_id))
        return folder / "static" if folder is not None and (folder / "static").is_dir() else None

    def migration_folders(self) -> list[Path]:
        """``migrations/versions`` folders of the plugin packages (their own Alembic branch)."""
        return [f / "migrations" / "versions" for f in self.plugin_folders()
                if (f / "migrations" / "versions").is_dir()]

    # ----------------------------------------------------------------- contexts
    def default_context(self, provider_id: str) -> RuleContext:
        """The public rules: the plugin's default closures and settings (rules API)."""
        info = self.info(provider_id)
        calendar = self._default_calendars.get(provider_id)
        if calendar is None:
            calendar = self._default_calendars[provider_id] = BusinessCalendar(info.closure_defaults)
        return RuleContext(info, calendar, {}, tuple(info.exams))

    def context(self, provider_id: str, closures: Iterable[ClosureRule], settings: Mapping[str, Any],
                exams: Iterable[Exam] = ()) -> RuleContext:
        info = self.info(provider_id)
        return RuleContext(info, BusinessCalendar(closures), dict(settings), tuple(exams) or tuple(info.exams))

    # ----------------------------------------------------------------- questions
    def _caller(self, provider_id: str, hook: str):
        key = (provider_id, hook)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for pid, p in self._plugins.items() if pid != provider_id and p is not self._plugins[provider_id]]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        return caller

    def _call(self, ctx: RuleContext, hook: str, **kwargs):
        """Call a hook for ``ctx.provider``; a plugin's bug becomes a :class:`PluginFailure`."""
        try:
            return self._caller(ctx.provider.id, hook)(ctx=ctx, **kwargs)
        except RuleError:
            raise
        except Exception as exc:
            plugin = self._culprit(exc) or self._plugins.get(ctx.provider.id)
            label = self._label(plugin) if plugin is not None else "?"
            log.exception("plugin %s failed in %s for provider %s", label, hook, ctx.provider.id)
            raise PluginFailure(ctx.provider.id, ctx.provider.name, label) from exc

    def _culprit(self, exc: BaseException) -> object | None:
        """The registered plugin whose code raised ``exc`` (innermost frame wins)."""
        by_module = {}
        for plugin in self.pm.get_plugins():
            module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
            by_module[module.rsplit(".", 1)[0] if "." in module else module] = plugin
            by_module[module] = plugin
        found = None
        tb = exc.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_globals.get("__name__", "")
            for prefix, plugin in by_module.items():
                if name == prefix or name.startswith(prefix + "."):
                    found = plugin
            tb = tb.tb_next
        return found

    def _ask(self, ctx: RuleContext, hook: str, what: str, **kwargs):
        answer = self._call(ctx, hook, **kwargs)
        if answer is None:
            raise NotOffered(ctx.provider.id, what)
        return answer

    def deadlines(self, ctx: RuleContext, query: DeadlineQuery) -> list[Deadline]:
        return list(self._ask(ctx, "provider_deadlines", "deadlines", query=query))

    def quote(self, ctx: RuleContext, query: QuoteQuery) -> Quote:
        return self._ask(ctx, "provider_quote", "quote", query=query)

    def retake(self, ctx: RuleContext, query: RetakeQuery) -> RetakeDecision:
        return self._ask(ctx, "provider_retake", "retake", query=query)

    def policy(self, ctx: RuleContext, facts: PolicyFacts) -> PolicyDecision:
        return self._ask(ctx, "provider_policy", "policy", facts=facts)

    def booking_decision(self, ctx: RuleContext, action: str, facts: BookingFacts) -> BookingDecision | None:
        """The provider's (and wrapping plugins') answer; ``None``: nothing against it."""
        return self._call(ctx, "provider_booking_decision", action=action, facts=facts)

    def _collect(self, ctx: RuleContext, hook: str, **kwargs) -> list:
        return [item for group in self._call(ctx, hook, **kwargs) for item in (group or [])]

    def due_items(self, ctx: RuleContext, organization_id: int, start: datetime, end: datetime,
                  limit: int | None = None, kind: str | None = None) -> list[DueItem]:
        """The provider's due items in ``[start, end)`` ordered by ``at`` (its first ``limit``
        of ``kind`` when given; plugins that ignore them are filtered and cut here)."""
        items = self._collect(ctx, "provider_due_items", organization_id=organization_id, start=start, end=end,
                              limit=limit, kind=kind)
        items = sorted((i for i in items if not kind or i.kind == kind), key=lambda i: i.at)
        return items if limit is None else items[:limit]

    def sessions(self, ctx: RuleContext, organization_id: int, start: datetime, end: datetime) -> list[SessionItem]:
        return self._collect(ctx, "provider_sessions", organization_id=organization_id, start=start, end=end)

    def attempts(self, ctx: RuleContext, organization_id: int, candidate_id: int) -> list[AttemptRecord]:
        return self._collect(ctx, "provider_attempts", organization_id=organization_id, candidate_id=candidate_id)

    def catalog(self, ctx: RuleContext, organization_id: int) -> list[Exam] | None:
        return self._call(ctx, "provider_catalog", organization_id=organization_id)

    def recompute_plan(self, ctx: RuleContext, organization_id: int) -> list:
        """Every plugin's stored deadlines that ``ctx`` would change (portal.recompute)."""
        return self._collect(ctx, "provider_recompute_plan", organization_id=organization_id)

    def recompute_computed(self, ctx: RuleContext, organization_id: int, current: RuleContext) -> list:
        """Every plugin's computed (not stored) deadlines that ``ctx`` moves compared with
        ``current`` (portal.recompute), marked ``computed``; a change that moves nothing is left out."""
        changes = self._collect(ctx, "provider_recompute_computed", organization_id=organization_id, current=current)
        return [replace(c, computed=True) for c in changes if c.moved]

    def recompute_apply(self, ctx: RuleContext, organization_id: int, changes: list) -> int:
        return sum(self._call(ctx, "provider_recompute_apply", organization_id=organization_id, changes=changes))

    def recompute_records(self, ctx: RuleContext, organization_id: int, records: list) -> list:
        """A plan's (source, record id) pairs described by the plugins that store them (portal.recompute)."""
        return self._collect(ctx, "provider_recompute_records", organization_id=organization_id, records=records)

    def recompute_legacy(self, ctx: RuleContext, organization_id: int) -> int:
        """Plugins that recompute in one step (hook ``provider_recompute``, no plan to preview)."""
        return sum(self._call(ctx, "provider_recompute", organization_id=organization_id))

    def recompute(self, ctx: RuleContext, organization_id: int) -> int:
        """Plan and apply (portal.recompute.recompute), inside the caller's transaction."""
        from portal import db, recompute
        return recompute.recompute(db.session(), ctx, organization_id)

    def demo_data(self, ctx: RuleContext, organization_id: int, user_id: int) -> None:
        self._call(ctx, "provider_demo_data", organization_id=organization_id, user_id=user_id)

    @cached_property
    def blueprints(self) -> list[Any]:
        return [bp for group in self.pm.hook.portal_blueprints() for bp in (group or [])]


def current() -> Providers:
    """The running app's provider registry."""
    from flask import current_app
    return current_app.extensions["exam_portal.providers"]
