"""Shared helpers for the cbt_ipa tests."""
from __future__ import annotations

from datetime import datetime

from portal.business_days import BusinessCalendar
from portal.providers import RuleContext
from portal.rules import JST, Payment, PolicyFacts

from plugins.cbt_ipa.plugin import INFO


def ctx() -> RuleContext:
    return RuleContext(INFO, BusinessCalendar(INFO.closure_defaults), {}, tuple(INFO.exams))


def jst(y, m, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=JST)


def facts(**kw) -> PolicyFacts:
    base = dict(at=jst(2026, 4, 1, 9), exam="FE", exam_start=jst(2026, 4, 20, 10),
                first_booked_at=jst(2026, 3, 30, 12), payment=Payment("credit_card", True, 7500))
    base.update(kw)
    return PolicyFacts(**base)
