"""The provider registry: who answers which question, and with what calendar.

A rule question about provider X goes to X's own plugin only (the other providers'
plugins are left out of the call), while non-provider plugins may still wrap the answer.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Mapping

import pluggy

from portal.business_days import BusinessCalendar
from portal.rules import (
    AttemptRecord, BookingDecision, BookingFacts, DueItem, SessionItem,
    ClosureRule, Deadline, DeadlineQuery, Exam, PolicyDecision, PolicyFacts, ProviderInfo, Quote,
    QuoteQuery, RetakeDecision, RetakeQuery, RuleError, UnknownExam, UnknownProvider, Msg,
)

RULE_HOOKS = ("provider_deadlines", "provider_quote", "provider_retake", "provider_policy", "provider_booking_decision")


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
                raise RuntimeError(f"two plugins declare provider {info.id!r}")
            self._infos[info.id] = info
            self._plugins[info.id] = impl.plugin
        self._callers: dict[tuple[str, str], Any] = {}
        self._default_calendars: dict[str, BusinessCalendar] = {}

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

    def plugin_folders(self) -> list[Path]:
        """The package folder of every registered plugin (module or object)."""
        folders: list[Path] = []
        for plugin in self.pm.get_plugins():
            module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
            module_file = getattr(module, "__file__", None)
            if module_file and Path(module_file).parent not in folders:
                folders.append(Path(module_file).parent)
        return folders

    def template_folders(self) -> list[Path]:
        """``templates/`` folders of the plugin packages, found automatically."""
        return [f / "templates" for f in self.plugin_folders() if (f / "templates").is_dir()]

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

    def _ask(self, ctx: RuleContext, hook: str, what: str, **kwargs):
        answer = self._caller(ctx.provider.id, hook)(ctx=ctx, **kwargs)
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
        return self._caller(ctx.provider.id, "provider_booking_decision")(ctx=ctx, action=action, facts=facts)

    def _collect(self, ctx: RuleContext, hook: str, **kwargs) -> list:
        return [item for group in self._caller(ctx.provider.id, hook)(ctx=ctx, **kwargs) for item in (group or [])]

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
        return self._caller(ctx.provider.id, "provider_catalog")(ctx=ctx, organization_id=organization_id)

    def recompute_plan(self, ctx: RuleContext, organization_id: int) -> list:
        """Every plugin's stored deadlines that ``ctx`` would change (portal.recompute)."""
        return self._collect(ctx, "provider_recompute_plan", organization_id=organization_id)

    def recompute_apply(self, ctx: RuleContext, organization_id: int, changes: list) -> int:
        return sum(self._caller(ctx.provider.id, "provider_recompute_apply")(
            ctx=ctx, organization_id=organization_id, changes=changes))

    def recompute_records(self, ctx: RuleContext, organization_id: int, records: list) -> list:
        """A plan's (source, record id) pairs described by the plugins that store them (portal.recompute)."""
        return self._collect(ctx, "provider_recompute_records", organization_id=organization_id, records=records)

    def recompute_legacy(self, ctx: RuleContext, organization_id: int) -> int:
        """Plugins that recompute in one step (hook ``provider_recompute``, no plan to preview)."""
        return sum(self._caller(ctx.provider.id, "provider_recompute")(ctx=ctx, organization_id=organization_id))

    def recompute(self, ctx: RuleContext, organization_id: int) -> int:
        """Plan and apply (portal.recompute.recompute), inside the caller's transaction."""
        from portal import db, recompute
        return recompute.recompute(db.session(), ctx, organization_id)

    def demo_data(self, ctx: RuleContext, organization_id: int, user_id: int) -> None:
        self._caller(ctx.provider.id, "provider_demo_data")(ctx=ctx, organization_id=organization_id, user_id=user_id)

    @cached_property
    def blueprints(self) -> list[Any]:
        return [bp for group in self.pm.hook.portal_blueprints() for bp in (group or [])]


def current() -> Providers:
    """The running app's provider registry."""
    from flask import current_app
    return current_app.extensions["exam_portal.providers"]
