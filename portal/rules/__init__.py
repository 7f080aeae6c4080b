"""Rule values and errors shared by the core and the provider plugins."""
from portal.rules.errors import BadInput, MissingFact, RuleError, RuleRefusal, UnknownExam, UnknownProvider
from portal.rules.types import (
    JST, AttemptFact, BookingDecision, BookingFactSpec, BookingFacts, SessionFacts, Sitting, AttemptRecord, DueItem, SessionItem, CancelDecision, ChangeDecision, ClosureRule, Deadline, DeadlineQuery, Exam,
    Fact, LapseDecision, Msg, Payment, PolicyDecision, PolicyFacts, ProviderInfo, ProviderSetting, Quote,
    QuoteLine, QuoteQuery, RetakeDecision, RetakeQuery, SkippedDay, STORE_METHODS, at_time, end_of_day, jst,
)

__all__ = [
    "JST", "AttemptFact", "BookingDecision", "BookingFactSpec", "BookingFacts", "SessionFacts", "Sitting", "AttemptRecord", "DueItem", "SessionItem", "BadInput", "CancelDecision", "ChangeDecision", "ClosureRule", "Deadline",
    "DeadlineQuery", "Exam", "Fact", "LapseDecision", "MissingFact", "Msg", "Payment", "PolicyDecision",
    "PolicyFacts", "ProviderInfo", "ProviderSetting", "Quote", "QuoteLine", "QuoteQuery",
    "RetakeDecision", "RetakeQuery", "RuleError", "RuleRefusal", "SkippedDay", "STORE_METHODS", "UnknownExam",
    "UnknownProvider", "at_time", "end_of_day", "jst",
]
