"""Deadline reminders by e-mail: one digest per user per day, sent by housekeeping (cron).

Two steps, each safe to run any number of times and from several processes at once:

1. :func:`prepare_digests` writes today's digest of every user whose reminders are on and
   who has something due — the text is rendered now, in the user's language, and stored,
   so a retry sends exactly what was prepared. ``UNIQUE (user_id, day)`` makes a second
   run of the same day (or a racing one) add nothing.
2. :func:`send_digests` sends what is waiting. A digest is claimed by one guarded UPDATE
   (``pending``/``failed`` → ``sending``), sent through SMTP (Flask-Mailman), then marked
   ``sent`` — or ``failed`` with the error, to be retried by the next run. A digest left in
   ``sending`` by a process that died is taken again after :data:`STALE_CLAIM`: a reminder
   may then arrive twice, but it is never lost.

**Changed deadlines.** A digest marks each of its deadlines that a change of the
organisation's rules (closure days, settings, catalog: :mod:`portal.deadline_moves`) moved
since the user's previous digest — since any such change, for a first digest — as
changed, old → new, with the rule; a deadline that moved *into* the user's window is simply
one of its deadlines, so it is listed and marked. A deadline whose old moment is in the
window but that moved out of it (later than the window, into the past, or dropped) is
listed apart as moved away, so that nobody keeps working to the old date; a user with only
such news still gets a digest. See :func:`digest_changes`.

The mail is configured by ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``,
``MAIL_PASSWORD``, ``MAIL_USE_TLS`` and ``MAIL_FROM`` (see :func:`configure_mail`).
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any, Iterable

from flask import Flask, render_template
from flask_babel import gettext
from flask_mailman import EmailMessage, Mail
from sqlalchemy import func, or_, update
from sqlmodel import select

from portal import db, deadline_moves
from portal.guard import Conflict, register_constraint
from portal.models import DeadlineMove, Organization, ReminderDigest, ReminderPreference, User
from portal.providers import RuleContext
from portal.rules import DueItem, Msg, jst

STALE_CLAIM = timedelta(minutes=30)
DAYS_AHEAD_CHOICES = tuple(range(1, 21))
mail = Mail()

register_constraint("uq_reminder_digest_user_day", "reminder_digest", ("user_id", "day"), "digest_exists",
                    Msg("本日のリマインダーは作成済みです。", "Today's reminder was already prepared."))


def configure_mail(app: Flask) -> None:
    """SMTP settings from the environment (or the app's test config)."""
    env = os.environ
    defaults = {
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes", "on"),
        "MAIL_FROM": env.get("MAIL_FROM", "exam-portal@localhost"),
        "MAIL_TIMEOUT": 20,
        "PORTAL_URL": env.get("PORTAL_URL", "http://127.0.0.1:5000"),
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)
    app.config.setdefault("MAIL_DEFAULT_SENDER", app.config["MAIL_FROM"])
    # real SMTP also under TESTING (Flask-Mailman would pick its in-memory backend):
    # the tests send to an SMTP server they start
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mail.init_app(app)


# --------------------------------------------------------------------------- what is due


def wanted(item: DueItem | DeadlineMove, preference: ReminderPreference) -> bool:
    """Whether the deadline (its ``provider`` and ``kind``) is of the user's brands and kinds."""
    return ((not preference.providers or item.provider in preference.providers)
            and (not preference.kinds or item.kind in preference.kinds))


def due_for(preference: ReminderPreference, items: Iterable[DueItem], now: datetime) -> list[DueItem]:
    """The items of the user's brands and kinds due from now to the end of the
    ``days_ahead``-th business day (today counts if it is one), as on the dashboard."""
    from portal.web.dashboard import window_end
    end = window_end(now, preference.days_ahead)
    return [i for i in items if now <= i.at < end and wanted(i, preference)]


@dataclass(frozen=True)
class Changed:
    """How a rules change moved a deadline of a digest (``old_at`` None: the rules added it;
    ``new_at`` None: they dropped it)."""

    old_at: datetime | None
    new_at: datetime | None
    rule: str


@dataclass(frozen=True)
class MovedAway:
    """A deadline the user would look for in the digest's window that a rules change moved
    out of it: what it is about (as the dashboard names it) and where it went."""

    provider: str
    kind: str
    subject: str
    url: str | None
    change: Changed


@dataclass(frozen=True)
class DigestChanges:
    marked: dict[str, Changed]  # DueItem uid → how it moved
    away: list[MovedAway]

    def __len__(self) -> int:
        return len(self.marked) + len(self.away)


Described = dict[str, tuple[str, str | None]]  # uid → (subject, url) of a deadline no longer in the window


def digest_changes(preference: ReminderPreference, mine: list[DueItem], moved: dict[str, DeadlineMove],
                   described: Described, now: datetime) -> DigestChanges:
    """The changes a user's digest reports, from the deadlines it lists (``mine``) and the
    moves since the user's previous digest (``moved``: collapsed per deadline, first old →
    last new, :func:`portal.deadline_moves.collapse`).

    - a listed deadline that moved is marked old → its moment now (a deadline moved into
      the window is listed, so it is marked too; one moved away and back is not);
    - a deadline not listed whose old moment is in the window (now to the end of the
      ``days_ahead``-th business day) and whose new one is not — later, already past, or
      none — is reported as moved away, if it is of the user's brands and kinds and
      ``described`` names it. A deadline that would still be in the window but is not
      listed no longer applies for another reason (a cancelled booking), which is not a
      rules change and is left out."""
    from portal.web.dashboard import window_end
    end = window_end(now, preference.days_ahead)
    marked = {}
    for item in mine:
        move = moved.get(item.uid)
        if move is not None and move.old_at != item.at:
            marked[item.uid] = Changed(move.old_at, item.at, move.rule)
    listed = {item.uid for item in mine}
    away = []
    for uid, move in moved.items():
        if uid in listed or uid not in described or not wanted(move, preference):
            continue
        if move.old_at is not None and now <= move.old_at < end and not (move.new_at and now <= move.new_at < end):
            subject, url = described[uid]
            away.append(MovedAway(move.provider, move.kind, subject, url, Changed(move.old_at, move.new_at, move.rule)))
    away.sort(key=lambda a: (a.change.old_at, a.provider, a.kind, a.subject))
    return DigestChanges(marked, away)


def describe_moved_away(ctxs: list[RuleContext], organization_id: int, moves: list[DeadlineMove],
                        items: list[DueItem], now: datetime, end: datetime) -> Described:
    """Subject and link of every deadline some digest of the organisation may report as
    moved away (old moment from ``now`` to ``end``, the longest window): from the due items
    when it is still among them, else described by the plugin storing its record (hook
    ``provider_recompute_records``, one call per provider for all its records)."""
    from portal import recompute
    listed = {item.uid: (item.subject, item.url) for item in items}
    wanted_records: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for move in moves:
        if move.old_at is not None and now <= move.old_at < end and move.uid not in listed:
            wanted_records[move.provider].add((move.record, move.record_id))
    described = {uid: listed[uid] for uid in {m.uid for m in moves} if uid in listed}
    for ctx in ctxs:
        if ctx.provider.id not in wanted_records:
            continue
        records = recompute.records(ctx, organization_id, wanted_records[ctx.provider.id])
        for move in moves:
            record = records.get((move.record, move.record_id))
            if move.provider == ctx.provider.id and record is not None:
                subject = f"{record.subject} — {record.exam}" if record.exam else record.subject  # as a DueItem says it
                described.setdefault(move.uid, (subject, record.url))
    return described


@dataclass(frozen=True)
class DigestText:
    subject: str
    body: str
    items: int
    changed: int = 0


def render_digest(user: User, organization: Organization, items: list[DueItem], today: date,
                  base_url: str, changes: DigestChanges | None = None) -> DigestText:
    """The e-mail in the language of the request context it is called in."""
    from portal.web.main import provider_name
    changes = changes or DigestChanges({}, [])
    groups = [(day, list(group)) for day, group in groupby(items, key=lambda i: jst(i.at).date())]
    if changes:
        subject = gettext("【試験ポータル】期限のお知らせ %(day)s(%(n)s件・変更%(changed)s件)", day=today.isoformat(),
                          n=len(items), changed=len(changes))
    else:
        subject = gettext("【試験ポータル】期限のお知らせ %(day)s(%(n)s件)", day=today.isoformat(), n=len(items))
    body = render_template("reminders/digest.txt", user=user, organization=organization, groups=groups,
                           base_url=base_url.rstrip("/"), provider_name=provider_name, today=today,
                           total=len(items), changed=changes.marked, away=changes.away)
    return DigestText(subject, body, len(items), len(changes))


# --------------------------------------------------------------------------- step 1


def prepare_digests(app: Flask, now: datetime) -> int:
    """Store today's digest of each user with reminders on and something due."""
    from portal.web.dashboard import contexts, due_items, window_end
    today = jst(now).date()
    session = db.session()
    rows = session.exec(
        select(ReminderPreference, User, Organization)
        .join(User, User.id == ReminderPreference.user_id)
        .join(Organization, Organization.id == ReminderPreference.organization_id)
        .where(ReminderPreference.enabled == True, User.active == True)  # noqa: E712
        .order_by(ReminderPreference.organization_id, User.id)).all()
    done_today = set(session.exec(select(ReminderDigest.user_id).where(ReminderDigest.day == today)).all())
    previous = previous_digests(session, today)
    by_org: dict[int, list] = defaultdict(list)
    for pref, user, org in rows:
        if user.id not in done_today:
            by_org[org.id].append((pref, user, org))
    prepared = 0
    base_url = app.config["PORTAL_URL"]
    for organization_id, people in by_org.items():
        # one unit of work: a provider may load what it reads on first use (e.g. a catalog)
        with app.test_request_context("/", base_url=base_url), db.transaction():
            longest = max(p.days_ahead for p, _, _ in people)
            ctxs = contexts(organization_id)
            end = window_end(now, longest)
            items = due_items(ctxs, organization_id, now, end)
            since = [previous.get(user.id) for _, user, _ in people]
            earliest = None if None in since else min(since)
            moves = deadline_moves.moves_after(db.session(), organization_id, earliest, now)
            described = describe_moved_away(ctxs, organization_id, moves, items, now, end) if moves else {}
        for pref, user, org in people:
            mine = due_for(pref, items, now)
            changes = digest_changes(pref, mine, deadline_moves.collapse(moves, previous.get(user.id)), described, now)
            if not mine and not changes:
                continue
            with app.test_request_context("/", base_url=base_url, query_string={"lang": pref.language}):
                text = render_digest(user, org, mine, today, base_url, changes)
            try:
                with db.transaction() as s:
                    s.add(ReminderDigest(organization_id=organization_id, user_id=user.id, day=today,
                                         recipient=user.email, subject=text.subject[:300], body=text.body,
                                         items=text.items, changed=text.changed, created_at=now))
            except Conflict:  # a racing run prepared it first
                continue
            prepared += 1
    return prepared


def previous_digests(session: Any, today: date) -> dict[int, datetime]:
    """When each user's latest digest before ``today`` was prepared (its text shows the
    deadlines as they were then): one grouped query for every user."""
    return dict(session.exec(select(ReminderDigest.user_id, func.max(ReminderDigest.created_at))
                             .where(ReminderDigest.day < today).group_by(ReminderDigest.user_id)).all())


# --------------------------------------------------------------------------- step 2


def _claim(digest: ReminderDigest, now: datetime) -> bool:
    """Take the digest for this run: one guarded UPDATE on the state it was read in."""
    with db.transaction() as s:
        result = s.execute(
            update(ReminderDigest)
            .where(ReminderDigest.id == digest.id, ReminderDigest.status == digest.status,
                   ReminderDigest.attempts == digest.attempts)
            .values(status="sending", claimed_at=now, attempts=ReminderDigest.attempts + 1))
        return result.rowcount == 1


def _finish(digest_id: int, status: str, now: datetime, error: str = "") -> None:
    values: dict[str, Any] = {"status": status, "last_error": error[:1000]}
    if status == "sent":
        values["sent_at"] = now
    with db.transaction() as s:
        s.execute(update(ReminderDigest).where(ReminderDigest.id == digest_id, ReminderDigest.status == "sending")
                  .values(**values))


def send_digests(app: Flask, now: datetime) -> tuple[int, int]:
    """Send every digest waiting (new, failed before, or abandoned mid-send); returns
    (sent, failed)."""
    session = db.session()
    waiting = session.exec(select(ReminderDigest).where(or_(
        ReminderDigest.status.in_(("pending", "failed")),
        (ReminderDigest.status == "sending") & (ReminderDigest.claimed_at < now - STALE_CLAIM),
    )).order_by(ReminderDigest.id)).all()
    if not waiting:
        return 0, 0
    sent = failed = 0
    connection = mail.get_connection(fail_silently=False)
    try:
        for digest in waiting:
            if not _claim(digest, now):
                continue  # another run took it
            try:
                message = EmailMessage(subject=digest.subject, body=digest.body, from_email=app.config["MAIL_FROM"],
                                       to=[digest.recipient], connection=connection)
                message.send(fail_silently=False)
            except Exception as exc:  # SMTP refusal, network: keep it for the next run
                app.logger.warning("reminder %s to %s not sent: %r", digest.id, digest.recipient, exc)
                _finish(digest.id, "failed", now, repr(exc))
                failed += 1
                try:
                    connection.close()  # a broken connection is reopened for the next message
                except Exception:  # pragma: no cover - closing a dead socket
                    pass
                continue
            _finish(digest.id, "sent", now)
            sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # pragma: no cover
            pass
    return sent, failed


def run(app: Flask, now: datetime) -> list[str]:
    """Housekeeping's reminder step: prepare today's digests, then send what waits."""
    prepared = prepare_digests(app, now)
    sent, failed = send_digests(app, now)
    with db.transaction() as s:
        pruned = deadline_moves.prune(s, now)
    return [f"reminders prepared: {prepared}", f"reminders sent: {sent}, failed (retried next run): {failed}",
            f"deadline moves no digest needs any more, deleted: {pruned}"]


# --------------------------------------------------------------------------- preference


def preference_for(session: Any, user: User) -> ReminderPreference:
    """The user's stored preference, or the default (off, every brand and kind, 3 days)."""
    row = session.exec(select(ReminderPreference).where(ReminderPreference.user_id == user.id)).first()
    return row or ReminderPreference(organization_id=user.organization_id, user_id=user.id)
