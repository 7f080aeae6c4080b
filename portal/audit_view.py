"""The audit log as people read it: translated actions and records, field-level
before → after with labels in the user's language, values as the screens show them
(states, payment methods, yes / no, JST times), and a link to the record.

The core's vocabulary is here; a plugin adds its own through the hook
``portal_audit_labels`` (see :mod:`portal.hookspecs`), so the core names no provider.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from flask import url_for
from flask_babel import gettext, lazy_gettext as _l

from portal import labels
from portal.rules import jst

ACTIONS = {
    "create": _l("作成"), "update": _l("更新"), "delete": _l("削除"), "book": _l("予約"), "change": _l("日程変更"),
    "cancel": _l("キャンセル"), "paid": _l("入金確認"), "refund_done": _l("返金完了"),
    "expire": _l("期限切れ(自動キャンセル)"), "revoke": _l("無効化"), "purge_personal_data": _l("個人情報の消去"),
    "outcome": _l("受験結果"),
}
ENTITIES = {
    "booking": _l("予約"), "candidate": _l("受験者"), "exam_session": _l("試験回"), "user": _l("ユーザー"),
    "closure_day": _l("休業日"), "provider_setting": _l("ブランド設定"), "catalog_entry": _l("試験カタログ"),
    "calendar_feed": _l("カレンダー配信"), "provider": _l("利用ブランド"), "attempt": _l("受験記録"),
    "reminder_preference": _l("期限リマインダー設定"),
}
FIELDS = {
    "id": _l("ID"), "organization_id": _l("組織"), "candidate_id": _l("受験者"), "session_id": _l("試験回"),
    "provider": _l("ブランド"), "exam": _l("試験"), "payment_method": _l("支払方法"), "paid": _l("入金"),
    "amount": _l("金額"), "payment_due_at": _l("支払期限"), "booked_at": _l("予約日時"),
    "first_booked_at": _l("最初の予約日時"), "voucher_code": _l("受験チケット番号"), "status": _l("状態"),
    "cancelled_at": _l("キャンセル日時"), "refund_amount": _l("返金額"),
    "voucher_reusable_at": _l("チケット再利用可能日時"), "needs_reauthorization": _l("カード再与信"),
    "next_deadline_at": _l("次の期限"), "family_name": _l("姓"), "given_name": _l("名"),
    "family_kana": _l("セイ"), "given_kana": _l("メイ"), "email": _l("メールアドレス"), "name": _l("名称"),
    "role": _l("役割"), "active": _l("有効"), "venue": _l("会場"), "start": _l("開始"), "end": _l("終了"),
    "capacity": _l("座席数"), "seats_taken": _l("予約済み座席"), "start_date": _l("開始日"), "end_date": _l("終了日"),
    "yearly": _l("毎年"), "label_ja": _l("名称"), "label_en": _l("名称(英語)"), "code": _l("コード"),
    "price": _l("価格"), "duration_minutes": _l("試験時間(分)"), "enabled": _l("利用する"),
    "outcome": _l("結果"), "revoked_at": _l("無効化日時"), "rule": _l("規則"), "created_at": _l("作成日時"),
    "providers": _l("ブランド"), "kinds": _l("期限の種類"), "days_ahead": _l("何営業日前から"),
    "language": _l("言語"), "refund_account": _l("返金先口座"),
}
#: Fields whose values are vocabulary keys, shown with their labels.
VALUE_LABELS: dict[str, Callable[[str], str]] = {
    "status": labels.status_label, "payment_method": labels.payment_label, "outcome": labels.outcome_label,
    "role": labels.role_label, "kind": labels.deadline_label,
}
#: Fields left out of the diff: bookkeeping nobody reads.
HIDDEN = {"id", "organization_id"}


@dataclass
class Vocabulary:
    """Labels and record links of the core and every plugin (hook ``portal_audit_labels``)."""

    actions: dict[str, Any] = field(default_factory=lambda: dict(ACTIONS))
    entities: dict[str, Any] = field(default_factory=lambda: dict(ENTITIES))
    fields: dict[str, Any] = field(default_factory=lambda: dict(FIELDS))
    links: dict[str, Callable[[int], str]] = field(default_factory=dict)

    def merge(self, extra: Mapping[str, Any] | None) -> None:
        if not extra:
            return
        self.actions.update(extra.get("actions", {}))
        self.entities.update(extra.get("entities", {}))
        self.fields.update(extra.get("fields", {}))
        self.links.update(extra.get("links", {}))


def vocabulary(pm: Any) -> Vocabulary:
    vocab = Vocabulary()
    vocab.links["candidate"] = lambda i: url_for("candidates.detail", candidate_id=i)
    for extra in pm.hook.portal_audit_labels():
        vocab.merge(extra)
    return vocab


def _booking_links(events: list[Any]) -> dict[int, str]:
    """Links of the bookings on this page, from one query (a provider may have its own page)."""
    from sqlmodel import select
    from portal import db
    from portal.models import Booking
    from portal.web.main import booking_url
    ids = {e.entity_id for e in events if e.entity == "booking" and e.entity_id}
    if not ids:
        return {}
    return {b.id: booking_url(b) for b in db.session().exec(select(Booking).where(Booking.id.in_(ids))).all()}


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


def _readable(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    if key in VALUE_LABELS and isinstance(value, str):
        return VALUE_LABELS[key](value)
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = jst(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(_readable(key, v) for v in value)
    if key == "refund_account" and isinstance(value, dict):
        return " / ".join(filter(None, (value.get("bank_code"), value.get("branch_code"),
                                        labels.account_type_label(value.get("account_type") or ""),
                                        value.get("account_number"), value.get("holder"))))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, vocab: Vocabulary) -> list[Change]:
    """Field by field: what changed (an update), or what was set / removed (create / delete)."""
    before, after = before or {}, after or {}
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in HIDDEN:
            continue
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        rows.append(Change(key, str(vocab.fields.get(key, key)), _readable(key, old) if key in before else "",
                           _readable(key, new) if key in after else ""))
    return rows


@dataclass(frozen=True)
class ReadableEvent:
    event: Any
    action: str
    entity: str
    link: str
    changes: list[Change]
    raw: str


def readable(events: list[Any], vocab: Vocabulary) -> list[ReadableEvent]:
    result = []
    bookings = _booking_links(events)
    for e in events:
        link_for = vocab.links.get(e.entity)
        if e.entity == "booking":
            link = bookings.get(e.entity_id, "")
        else:
            link = link_for(e.entity_id) if link_for and e.entity_id else ""
        raw = json.dumps({"before": e.before, "after": e.after}, ensure_ascii=False, indent=1, sort_keys=True)
        result.append(ReadableEvent(e, str(vocab.actions.get(e.action, e.action)), str(vocab.entities.get(e.entity, e.entity)),
                                    link, changes(e.before, e.after, vocab), raw))
    return result


def summary_text(item: ReadableEvent) -> str:
    """The changes on one line (export)."""
    return "; ".join(f"{c.label}: {c.before} → {c.after}" if c.before and c.after else f"{c.label}: {c.after or c.before}"
                     for c in item.changes)
