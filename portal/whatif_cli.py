"""``flask --app portal closures preview PROVIDER --add DATE [--remove DATE] [--org ID]``:
the admin page's what-if for scripts and cron-driven imports of a provider's published
calendar. Prints what saving the closure edit would move; writes nothing.

Organisations: ``--org ID`` (repeatable) previews those; without it, every organisation
that uses the provider (the brand is enabled there) is previewed, one block each, since
closure days are kept per organisation.
"""
from __future__ import annotations

import json
from datetime import date

import click
from flask import Flask
from flask_babel import force_locale
from sqlmodel import select

from portal.rules import ClosureRule, Msg, jst

DEFAULT_LABEL = "臨時休業"


def _date(_ctx, _param, values):
    try:
        return tuple(date.fromisoformat(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD: {exc}") from None


def covers(row, day: date) -> bool:
    """Whether a stored closure row makes ``day`` a closure day (yearly rows by month/day,
    also across New Year)."""
    if not row.yearly:
        return row.start_date <= day <= row.end_date
    start, end, key = (row.start_date.month, row.start_date.day), (row.end_date.month, row.end_date.day), (day.month, day.day)
    return start <= key <= end if start <= end else key >= start or key <= end


def init_app(app: Flask) -> None:
    @app.cli.group("closures")
    def closures_group():
        """Closure days of a provider (per organisation)."""

    @closures_group.command("preview")
    @click.argument("provider_id")
    @click.option("--add", "added", multiple=True, callback=_date, metavar="DATE", help="A closure day to add (repeatable).")
    @click.option("--remove", "removed", multiple=True, callback=_date, metavar="DATE",
                  help="Remove the closure rows covering this date (a range or a yearly rule as a whole; repeatable).")
    @click.option("--label", default=DEFAULT_LABEL, show_default=True, help="Label of the added closure days.")
    @click.option("--org", "org_ids", multiple=True, type=int, help="Organisation id (repeatable); default: every organisation using the provider.")
    @click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.option("--limit", type=int, default=200, show_default=True, help="Moves listed per organisation (counts cover all).")
    def preview_command(provider_id, added, removed, label, org_ids, lang, fmt, limit):
        """What adding / removing closure days would move (nothing is written)."""
        from portal import db, whatif
        from portal.rule_context import closure_rows
        from portal.models import Organization
        from portal.orgs import enabled_provider_ids
        providers = app.extensions["exam_portal.providers"]
        if provider_id not in providers:
            raise click.ClickException(f"unknown provider {provider_id!r} (installed: {', '.join(providers.ids())})")
        if not added and not removed:
            raise click.UsageError("give at least one --add or --remove date")
        # links in the plan are built with url_for; everything is read in read-only transactions
        with app.test_request_context("/"), db.read_only() as session:
            orgs = session.exec(select(Organization).order_by(Organization.id)).all()
            if org_ids:
                unknown = set(org_ids) - {o.id for o in orgs}
                if unknown:
                    raise click.ClickException(f"unknown organisation(s): {', '.join(map(str, sorted(unknown)))}")
                orgs = [o for o in orgs if o.id in org_ids]
            else:
                orgs = [o for o in orgs if provider_id in enabled_provider_ids(session, o.id)]
            rules = tuple(ClosureRule(d, d, Msg(label, label)) for d in added)
            results = []
            for org in orgs:
                gone = [r for r in closure_rows(session, org.id, provider_id) if any(covers(r, d) for d in removed)]
                edit = whatif.RulesEdit(add_closures=rules, remove_closures=frozenset(r.id for r in gone))
                preview = whatif.preview(org.id, provider_id, edit, listed=limit)
                results.append((org, gone, preview))
            if fmt == "json":
                click.echo(json.dumps([_as_json(org, gone, p, lang) for org, gone, p in results], ensure_ascii=False,
                                      indent=2))
            else:
                with force_locale(lang):
                    for org, gone, p in results:
                        _print_text(org, gone, p, lang)
                if not results:
                    click.echo("no organisation uses this provider")


def _as_json(org, gone, p, lang: str) -> dict:
    return {
        "organization": {"id": org.id, "name": org.name}, "provider": p.provider, "plan": p.fingerprint,
        "removed_closures": [{"id": r.id, "start": r.start_date.isoformat(), "end": r.end_date.isoformat(),
                              "yearly": r.yearly, "label": r.label_ja} for r in gone],
        "deadlines_moved": p.moved, "deadlines_updated": p.updated,
        "records": {source: count for source, _what, count in p.records},
        "into_past_or_today": p.into_past, "unlisted": p.unlisted,
        "moves": [{"record": m.change.source, "record_id": m.record_id, "uid": m.uid, "subject": m.subject,
                   "exam": m.exam, "kind": m.change.kind, "old": _iso(m.change.old_at), "new": _iso(m.change.new_at),
                   "rule": m.change.rule, "explanation": m.change.explanation.text(lang), "into_past_or_today": g.past}
                  for g in p.groups for m in g.moves],
    }


def _iso(at) -> str | None:
    return jst(at).isoformat() if at else None


def _print_text(org, gone, p, lang: str) -> None:
    from portal import whatif
    from portal.labels import deadline_label
    en = lang == "en"
    click.echo(f"== {org.name} (organisation {org.id}) — {p.provider}")
    for r in gone:
        click.echo(("  removes closure " if en else "  削除する休業日 ") + f"#{r.id} {r.label_ja} {r.start_date}–{r.end_date}"
                   + (" (yearly)" if en and r.yearly else " (毎年)" if r.yearly else ""))
    records = ", ".join(f"{what.text(lang)} {n}" for _source, what, n in p.records)
    if en:
        click.echo(f"  this would move {p.moved} deadline(s) of {records or 'no records'}; "
                   f"{p.into_past} to today or the past")
    else:
        click.echo(f"  変わる期限 {p.moved}件({records or '対象なし'})、うち今日または過去の日付へ {p.into_past}件")
    for g in p.groups:
        flag = (" [TODAY]" if g.today else " [PAST]" if g.past else "")
        click.echo(f"  {g.day.isoformat() if g.day else '—'}{flag}")
        for m in g.moves:
            c = m.change
            click.echo(f"    {m.subject}\t{m.exam or ''}\t{deadline_label(c.kind)}\t{whatif.moment(c.old_at)} → "
                       f"{whatif.moment(c.new_at)}\t{c.rule}\t{c.explanation.text(lang)}")
    if p.unlisted:
        click.echo(f"  … {p.unlisted} more" if en else f"  …ほか{p.unlisted}件")
    click.echo(f"  plan {p.fingerprint}")
