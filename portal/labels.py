"""Display names of the vocabulary the pages use. A provider's own words (deadline kinds,
payment methods) come from the provider (``ProviderInfo.vocabulary``); the core keeps only
its own (booking states, outcomes, roles)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
ACCOUNT_TYPES = {"ordinary": _l("普通"), "current": _l("当座"), "savings": _l("貯蓄")}
REQUIREMENTS = {
    "card_reauthorization": _l("カード再与信が必要"),
}


def _lookup(table):
    def label(key: str) -> str:
        return str(table.get(key, key))
    return label


def vocabulary_label(key: str, provider: str | None = None, lang: str | None = None) -> str:
    """A provider's label of ``key`` in the request's language: the named provider's,
    else the first installed provider that has the word, else the key itself."""
    from portal.i18n import request_language
    from portal.providers import current
    return current().word(key, provider, lang or request_language())


def deadline_label(kind: str, provider: str | None = None, lang: str | None = None) -> str:
    return vocabulary_label(kind, provider, lang)


def payment_label(method: str, provider: str | None = None, lang: str | None = None) -> str:
    return vocabulary_label(method, provider, lang)


status_label = _lookup(STATUSES)
requirement_label = _lookup(REQUIREMENTS)
outcome_label = _lookup(OUTCOMES)
role_label = _lookup(ROLES)
account_type_label = _lookup(ACCOUNT_TYPES)
