"""Each user's deadline reminders: what to be reminded of, and what was sent."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user
from sqlmodel import select

from portal import audit, db, htmx, notify
from portal.i18n import SUPPORTED, request_language
from portal.models import ReminderDigest, ReminderPreference
from portal.orgs import enabled_provider_ids
from portal.providers import current as providers
from portal.reminders import DAYS_AHEAD_CHOICES, preference_for
from portal.rules import Msg

bp = Blueprint("reminders", __name__)
HISTORY = 60
FIELDS = ("enabled", "providers", "kinds", "days_ahead", "language")


def _page(errors=None, status=200):
    preference = preference_for(db.session(), current_user)
    enabled = [providers().info(p) for p in enabled_provider_ids(db.session(), current_user.organization_id)]
    kinds = sorted({k for p in enabled for k in p.deadline_kinds})
    digests = db.session().exec(select(ReminderDigest).where(ReminderDigest.user_id == current_user.id)
                                .order_by(ReminderDigest.day.desc()).limit(HISTORY)).all()
    return htmx.render("reminders/page.html", "reminders/partials/body.html", status=status, preference=preference,
                       enabled=enabled, kinds=kinds, digests=digests, day_choices=DAY_CHOICES_VIEW, errors=errors or {})


DAY_CHOICES_VIEW = (1, 2, 3, 5, 10)


@bp.get("/reminders")
def settings():
    return _page()


@bp.post("/reminders")
def save():
    form = request.form
    enabled_ids = set(enabled_provider_ids(db.session(), current_user.organization_id))
    known_kinds = {k for p in enabled_ids for k in providers().info(p).deadline_kinds}
    errors = {}
    days = form.get("days_ahead", "")
    if not days.isdigit() or int(days) not in DAYS_AHEAD_CHOICES:
        errors["days_ahead"] = Msg("1〜20営業日の範囲で選んでください。", "Choose 1 to 20 business days.")
    language = form.get("language") or request_language()
    if language not in SUPPORTED:
        errors["language"] = Msg("言語を選んでください。", "Choose a language.")
    chosen_providers = sorted(p for p in form.getlist("providers") if p in enabled_ids)
    chosen_kinds = sorted(k for k in form.getlist("kinds") if k in known_kinds)
    if errors:
        return _page(errors, 422)
    with db.transaction() as s:
        row = s.exec(select(ReminderPreference).where(ReminderPreference.user_id == current_user.id)).first()
        before = audit.snapshot(row, FIELDS) if row else None
        row = row or ReminderPreference(organization_id=current_user.organization_id, user_id=current_user.id)
        row.enabled = form.get("enabled") in ("on", "true", "1")
        row.providers, row.kinds = chosen_providers, chosen_kinds
        row.days_ahead, row.language = int(days), language
        s.add(row)
        s.flush()
        audit.record(s, current_user.organization_id, current_user.id, "update" if before else "create",
                     "reminder_preference", row.id, before, audit.snapshot(row, FIELDS))
    notify.success(Msg("リマインダーの設定を保存しました。", "Reminder settings saved."))
    return _page()
