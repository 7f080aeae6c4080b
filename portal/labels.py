"""Display names of the vocabulary the rules use (kinds, payment methods, states)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

DEADLINE_KINDS = {
    "change": _l("変更期限"),
    "cancel": _l("キャンセル期限"),
    "application": _l("申込締切"),
    "payment": _l("入金期日"),
    "late_addition": _l("追加申込"),
    "self_exam_request": _l("自校受験申請"),
}
PAYMENT_METHODS = {
    "credit_card": _l("クレジットカード"),
    "convenience_store": _l("コンビニ払い"),
    "pay_easy": _l("Pay-easy"),
    "voucher": _l("受験チケット(バウチャー)"),
    "invoice": _l("請求書払い"),
}
STATUSES = {
    "booked": _l("予約中"),
    "refund_pending": _l("返金待ち"),
    "cancelled": _l("キャンセル済み"),
    "expired": _l("期限切れ(自動キャンセル)"),
    "exam_over": _l("試験終了(結果未記録)"),
    "attended": _l("受験済み"),
    "absent": _l("欠席"),
}
OUTCOMES = {"passed": _l("合格"), "failed": _l("不合格"), "absent": _l("欠席")}
ROLES = {"admin": _l("管理者"), "staff": _l("担当者")}
REQUIREMENTS = {
    "card_reauthorization": _l("カード再与信が必要"),
}


def _lookup(table):
    def label(key: str) -> str:
        return str(table.get(key, key))
    return label


deadline_label = _lookup(DEADLINE_KINDS)
payment_label = _lookup(PAYMENT_METHODS)
status_label = _lookup(STATUSES)
requirement_label = _lookup(REQUIREMENTS)
outcome_label = _lookup(OUTCOMES)
role_label = _lookup(ROLES)
