"""Prometric's hook implementations, called through the plugin manager as the core does."""
from datetime import datetime

import pytest

from portal.plugins import make_plugin_manager
from portal.providers import Providers
from portal.rules import JST, DeadlineQuery, Payment, PolicyFacts, QuoteQuery, RetakeQuery, UnknownExam

PM = make_plugin_manager(only=("prometric",))
CTX = Providers(PM).default_context("prometric")
EXAM = datetime(2026, 12, 12, 10, tzinfo=JST)


def test_provider_info_describes_prometric():
    [info] = PM.hook.provider_info()
    assert info.id == "prometric" and info.bookings
    assert set(info.deadline_kinds) == {"change", "cancel"}
    assert info.closure_defaults[0].yearly


def test_provider_deadlines():
    deadlines = PM.hook.provider_deadlines(ctx=CTX, query=DeadlineQuery("RUBY-SILVER", EXAM))
    assert {d.at.date().isoformat() for d in deadlines} == {"2026-12-08"}
    with pytest.raises(UnknownExam):
        PM.hook.provider_deadlines(ctx=CTX, query=DeadlineQuery("NOPE", EXAM))


def test_provider_policy():
    decision = PM.hook.provider_policy(ctx=CTX, facts=PolicyFacts(
        at=datetime(2026, 12, 1, tzinfo=JST), exam_start=EXAM, first_booked_at=datetime(2026, 11, 20, tzinfo=JST),
        payment=Payment("credit_card", True, 16500)))
    assert decision.change.allowed and decision.cancel.allowed and decision.lapse is None


def test_provider_quote():
    quote = PM.hook.provider_quote(ctx=CTX, query=QuoteQuery({"items": [{"exam": "XML-BASIC", "count": 3}],
                                                              "payment_method": "convenience_store"}))
    assert quote.total == 3 * 15000 + 419  # 45,000 yen → 419 yen fee (PRM-CA-2 public fact)
    assert quote.extra["fees_total"] == 45000 and "PRM-CA-2" in quote.rule


def test_provider_retake():
    decision = PM.hook.provider_retake(ctx=CTX, query=RetakeQuery("RUBY-GOLD", [], EXAM))
    assert decision.allowed and decision.earliest is None
