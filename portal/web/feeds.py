"""The organisation's private, revocable ICS feed of deadlines and exam sessions."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, url_for
from flask_login import current_user
from flask_babel import force_locale, gettext
from icalendar import Alarm, Calendar, Event
from sqlmodel import select

from portal import audit, db, htmx
from portal.auth import require_admin
from portal.labels import deadline_label
from portal.models import CalendarFeed, User
from portal.reminders import preference_for
from portal.rules import JST, jst
from portal.rules.parse import now_jst
from portal.scoping import org_id

bp = Blueprint("feeds", __name__)
PAST, FUTURE = timedelta(days=31), timedelta(days=400)
DEFAULT_ALARM_DAYS = 3  # a preference's default


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """UTC ("Z") times: valid in every calendar app without a VTIMEZONE for a fixed offset."""
    return moment.astimezone(timezone.utc)


ALARM_HOUR = 9  # alarms ring at 09:00 JST on the first day the reminder e-mail would list the deadline


def alarm_moment(at: datetime, days_ahead: int) -> datetime:
    """When a deadline's alarm rings: 09:00 JST of the ``days_ahead``-th business day before
    it, counting its own day as the first (the window of the reminder e-mail)."""
    from portal.web.dashboard import NATIONAL
    day = NATIONAL.business_day_on_or_before(jst(at).date()).day
    if days_ahead > 1:
        day = NATIONAL.business_days_before(day, days_ahead - 1).day
    moment = datetime.combine(day, time(ALARM_HOUR), JST)
    return moment if moment < at else at - timedelta(hours=1)


def _alarm(text: str, at: datetime) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", _utc(at))  # an absolute trigger (VALUE=DATE-TIME, UTC)
    return alarm


def build_calendar(organization_id: int, lang: str, days_ahead: int | None = None) -> bytes:
    """Deadlines and sessions of every enabled provider, as an RFC 5545 calendar: titles in
    ``lang``, each deadline with an alarm ``days_ahead`` business days before (none if None)."""
    from portal.web import dashboard  # the same collectors the dashboard uses
    from portal.web.main import provider_name

    now = now_jst()
    cal = Calendar()
    cal.add("prodid", "-//exam-portal//deadlines//JA")
    cal.add("version", "2.0")
    with force_locale(lang):
        cal.add("x-wr-calname", gettext("試験ポータル 期限と試験"))
        ctxs = dashboard.contexts(organization_id)
        for item in dashboard.due_items(ctxs, organization_id, now - PAST, now + FUTURE):
            title = f"{deadline_label(item.kind, item.provider, lang)}: {item.subject} ({provider_name(item.provider)})"
            event = Event()
            event.add("uid", f"{item.uid}@exam-portal")
            event.add("dtstamp", _utc(now))
            event.add("dtstart", _utc(item.at))
            event.add("dtend", _utc(item.at))
            event.add("summary", title)
            event.add("description", f"{item.rule}: {item.explanation.text(lang)}")
            event.add("categories", [item.provider, "deadline"])
            if days_ahead:
                event.add_component(_alarm(title, alarm_moment(item.at, days_ahead)))
            cal.add_component(event)
        for item in dashboard.sessions(ctxs, organization_id, now - PAST, now + FUTURE):
            event = Event()
            event.add("uid", f"{item.uid}@exam-portal")
            event.add("dtstamp", _utc(now))
            event.add("dtstart", _utc(item.start))
            event.add("dtend", _utc(item.end))
            event.add("summary", f"{item.label} ({provider_name(item.provider)})")
            event.add("categories", [item.provider, "exam"])
            cal.add_component(event)
    return cal.to_ical()


@bp.get("/feeds/<token>.ics")
def ics(token: str):
    feed = db.session().exec(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))).first()
    if feed is None or feed.revoked_at is not None:
        abort(404)
    preference = None
    if feed.user_id is not None:
        owner = db.session().get(User, feed.user_id)
        preference = preference_for(db.session(), owner) if owner is not None else None
    # the alarms and language follow the reminder preference of the admin who created the feed
    body = build_calendar(feed.organization_id, preference.language if preference else "ja",
                          preference.days_ahead if preference else DEFAULT_ALARM_DAYS)
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
        feed = CalendarFeed(organization_id=org_id(), token_hash=_hash(token), user_id=current_user.id)
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
