"""What is due across every brand: the deadline dashboard and the month calendar."""
from __future__ import annotations

import calendar as month_grid
import heapq
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from itertools import groupby, islice

from flask import Blueprint, current_app, request, url_for
from markupsafe import Markup
from flask_babel import lazy_gettext as _l

from portal import db, exports, htmx
from portal.bookings import org_context, providers
from portal.business_days import BusinessCalendar
from portal.inputs import int_arg
from portal.orgs import enabled_provider_ids
from portal.providers import Providers, RuleContext
from portal.i18n import request_language
from portal.rules import JST, DueItem, jst
from portal.rules.parse import now_jst
from portal.labels import deadline_label
from portal.scoping import org_id
from portal.web.main import format_moment, provider_name

bp = Blueprint("dashboard", __name__)

DAY_CHOICES = (3, 5, 10, 20)
PAGE_SIZE = 50  # deadlines per dashboard page
MAX_PAGE = 1000  # deeper pages: narrow the filters instead
NATIONAL = BusinessCalendar()  # the operator's own business days: weekends and national holidays


def contexts(organization_id: int, provider_filter: str = "") -> list[RuleContext]:
    """The organisation's rule context of each enabled provider (or of the one filtered)."""
    return [org_context(db.session(), organization_id, pid) for pid in enabled_provider_ids(db.session(), organization_id)
            if not provider_filter or pid == provider_filter]


def due_items(ctxs: list[RuleContext], organization_id: int, start: datetime, end: datetime, kind: str = "",
              limit: int | None = None):
    """The providers' stored deadlines in ``[start, end)`` in order of time (hook
    provider_due_items); with ``limit``, the first ``limit`` of them, each provider asked
    for no more than that."""
    per_provider = [providers().due_items(ctx, organization_id, start, end, limit, kind or None) for ctx in ctxs]
    items = heapq.merge(*per_provider, key=lambda i: (i.at, i.provider))
    return list(items if limit is None else islice(items, limit))


def sessions(ctxs: list[RuleContext], organization_id: int, start: datetime, end: datetime):
    """The providers' sessions / exam days in ``[start, end)`` (hook provider_sessions)."""
    items = [s for ctx in ctxs for s in providers().sessions(ctx, organization_id, start, end)]
    return sorted(items, key=lambda s: (s.start, s.provider, s.label))


def window_end(now: datetime, days: int) -> datetime:
    """The end of the ``days``-th business day from today (today counts if it is one)."""
    today = now.date()
    first = NATIONAL.business_day_on_or_after(today).day
    last = first if days <= 1 else NATIONAL.business_days_after(first, days - 1).day
    return datetime.combine(last + timedelta(days=1), time(0), JST)


def dashboard_items(args, limit: int | None = None) -> dict:
    """What the dashboard shows under the filters of ``args`` (the first ``limit`` items):
    the screen and its export read it from here."""
    days = int_arg(args, "days", 5, minimum=1, maximum=max(DAY_CHOICES))
    days = days if days in DAY_CHOICES else 5
    enabled = [providers().info(p) for p in enabled_provider_ids(db.session(), org_id())]
    provider_filter = args.get("provider", "")
    if provider_filter not in {p.id for p in enabled}:
        provider_filter = ""
    kind = args.get("kind", "")
    now = now_jst()
    end = window_end(now, days)
    ctxs = [org_context(db.session(), org_id(), p.id) for p in enabled if not provider_filter or p.id == provider_filter]
    items = due_items(ctxs, org_id(), now, end, kind, limit=limit)
    return {"items": items, "enabled": enabled, "end": end,
            "filters": {"days": days, "provider": provider_filter, "kind": kind}}


@bp.get("/dashboard")
def dashboard():
    args = request.args
    page = min(int(args["page"]), MAX_PAGE) if args.get("page", "").isdigit() and int(args["page"]) > 0 else 1
    found = dashboard_items(args, limit=page * PAGE_SIZE + 1)
    lang = request_language()
    enabled, end, items = found["enabled"], found["end"], found["items"]
    has_next = len(items) > page * PAGE_SIZE
    items = items[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    registry, env = providers(), current_app.jinja_env
    groups = [(day, [row_html(i, lang, registry, env) for i in group])
              for day, group in groupby(items, key=lambda i: jst(i.at).date())]
    kinds = sorted({k for p in enabled for k in p.deadline_kinds})
    return htmx.render("dashboard/page.html", "dashboard/partials/due.html", groups=groups, filters=found["filters"],
                       kinds=kinds, day_choices=DAY_CHOICES, until=end - timedelta(seconds=1), enabled=enabled,
                       page=page, has_next=has_next)


@dataclass(frozen=True)
class DueRow:
    """A listed deadline with the words the page shows for it, in the request's language
    (looked up once per row here, not through a template call per word)."""
    item: DueItem
    iso: str  # the moment for <time datetime>
    when: str
    label: str
    provider_name: str
    explanation: str


def display_row(item: DueItem, lang: str, registry: Providers) -> DueRow:
    return DueRow(item, item.at.isoformat(), format_moment(item.at, lang == "en"),
                  registry.word(item.kind, item.provider, lang), registry.name(item.provider, lang),
                  item.explanation.text(lang))


@lru_cache(maxsize=20_000)
def row_html(item: DueItem, lang: str, registry: Providers, env) -> Markup:
    """A deadline's ``<li>`` (dashboard/partials/due_row.html), remembered: the row is a pure
    function of the item (every value it shows), the language and the provider's words, and
    every operator of an organisation sees the same upcoming deadlines all day, so a row is
    rendered once rather than on every page (a changed deadline is a different item)."""
    row = display_row(item, lang, registry)
    return Markup(env.get_template("dashboard/partials/due_row.html").render(r=row))


DASHBOARD_COLUMNS = (
    exports.Column(_l("期限"), lambda i: i.at),
    exports.Column(_l("ブランド"), lambda i: provider_name(i.provider)),
    exports.Column(_l("種類"), lambda i: deadline_label(i.kind, i.provider)),
    exports.Column(_l("対象"), lambda i: i.subject),
    exports.Column(_l("規則"), lambda i: i.rule),
    exports.Column(_l("説明"), lambda i: i.explanation),
    exports.Column(_l("リンク"), lambda i: url_for("web.home", _external=True).rstrip("/") + i.url),
)


@bp.get("/dashboard/export.<fmt>")
def export(fmt: str):
    """The dashboard's deadlines under its filters, as CSV / .xlsx."""
    return exports.export_response("deadlines", fmt, DASHBOARD_COLUMNS, dashboard_items(request.args)["items"])


def _month(value: str | None, today: date) -> date:
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return today.replace(day=1)


@bp.get("/calendar")
def month_calendar():
    first = _month(request.args.get("month"), now_jst().date())
    if not 1900 < first.year < 3000:
        first = now_jst().date().replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1)
    start, end = datetime.combine(first, time(0), JST), datetime.combine(last, time(0), JST)
    by_day = defaultdict(lambda: {"deadlines": [], "sessions": []})
    ctxs = contexts(org_id())
    for item in due_items(ctxs, org_id(), start, end):
        by_day[jst(item.at).date()]["deadlines"].append(item)
    for item in sessions(ctxs, org_id(), start, end):
        by_day[jst(item.start).date()]["sessions"].append(item)
    weeks = month_grid.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    return htmx.render("dashboard/calendar.html", "dashboard/partials/calendar.html", first=first, weeks=weeks,
                       by_day=by_day, previous=previous, following=last, national=NATIONAL, today=now_jst().date(),
                       brand_index=brand_colours())


def brand_colours() -> dict[str, int]:
    """A colour (one of six) per provider, the same on every page and for every organisation."""
    return {pid: i % 6 for i, pid in enumerate(providers().ids())}
