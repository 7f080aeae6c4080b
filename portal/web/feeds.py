"""The organisation's private, revocable ICS feed of deadlines and exam sessions."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, abort, url_for
from flask_login import current_user
from icalendar import Calendar, Event
from sqlmodel import select

from portal.labels import deadline_label
from portal import audit, db, htmx
from portal.auth import require_admin
from portal.models import CalendarFeed
from portal.rules.parse import now_jst
from portal.scoping import org_id

bp = Blueprint("feeds", __name__)
PAST, FUTURE = timedelta(days=31), timedelta(days=400)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """UTC ("Z") times: valid in every calendar app without a VTIMEZONE for a fixed offset."""
    return moment.astimezone(timezone.utc)


def build_calendar(organization_id: int, lang: str) -> bytes:
    """Deadlines and sessions of every enabled provider, as an RFC 5545 calendar."""
    from portal.web import dashboard  # the same collectors the dashboard uses

    now = now_jst()
    cal = Calendar()
    cal.add("prodid", "-//exam-portal//deadlines//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "試験ポータル 期限と試験" if lang != "en" else "Exam portal deadlines and exams")
    ctxs = dashboard.contexts(organization_id)
    for item in dashboard.due_items(ctxs, organization_id, now - PAST, now + FUTURE):
        event = Event()
        event.add("uid", f"{item.uid}@exam-portal")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(item.at))
        event.add("dtend", _utc(item.at))
        event.add("summary", f"[{deadline_label(item.kind, item.provider, lang)}] {item.subject}")
        event.add("description", f"{item.rule}: {item.explanation.text(lang)}")
        event.add("categories", [item.provider, "deadline"])
        cal.add_component(event)
    for item in dashboard.sessions(ctxs, organization_id, now - PAST, now + FUTURE):
        event = Event()
        event.add("uid", f"{item.uid}@exam-portal")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(item.start))
        event.add("dtend", _utc(item.end))
        event.add("summary", item.label)
        event.add("categories", [item.provider, "exam"])
        cal.add_component(event)
    return cal.to_ical()


@bp.get("/feeds/<token>.ics")
def ics(token: str):
    feed = db.session().exec(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))).first()
    if feed is None or feed.revoked_at is not None:
        abort(404)
    body = build_calendar(feed.organization_id, "ja")
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


def _feeds_page(new_url: str | None = None):
    feeds = db.session().exec(select(CalendarFeed).where(CalendarFeed.organization_id == org_id())
                              .order_by(CalendarFeed.created_at.desc())).all()
    return htmx.render("admin/feeds.html", "admin/partials/feeds.html", feeds=feeds, new_url=new_url)


@bp.get("/admin/feeds")
def feeds():
    require_admin()
    return _feeds_page()


@bp.post("/admin/feeds")
def create_feed():
    require_admin()
    token = secrets.token_urlsafe(24)
    with db.transaction() as s:
        feed = CalendarFeed(organization_id=org_id(), token_hash=_hash(token))
        s.add(feed)
        s.flush()
        audit.record(s, org_id(), current_user.id, "create", "calendar_feed", feed.id, None, {"id": feed.id})
    return _feeds_page(url_for("feeds.ics", token=token, _external=True))


@bp.post("/admin/feeds/<int:feed_id>/revoke")
def revoke_feed(feed_id: int):
    require_admin()
    feed = db.session().get(CalendarFeed, feed_id)
    if feed is None or feed.organization_id != org_id():
        abort(404)
    with db.transaction() as s:
        feed.revoked_at = now_jst()
        s.add(feed)
        audit.record(s, org_id(), current_user.id, "revoke", "calendar_feed", feed.id, None, {"revoked_at": feed.revoked_at.isoformat()})
    return _feeds_page()
