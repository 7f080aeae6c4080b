"""Errors a rule question can end in. The API maps each to the contract's error body."""
from __future__ import annotations

from portal.rules.types import Msg


class RuleError(Exception):
    status = 400

    def __init__(self, code: str, message: Msg, field: str | None = None):
        super().__init__(message.en)
        self.code = code
        self.message = message
        self.field = field


class BadInput(RuleError):
    """Malformed or missing input (HTTP 400)."""

    status = 400


class MissingFact(BadInput):
    def __init__(self, field: str):
        super().__init__(
            "missing_field",
            Msg(f"{field} が必要です。", f"{field} is required."),
            field,
        )


class UnknownProvider(RuleError):
    status = 404

    def __init__(self, provider: str):
        super().__init__(
            "unknown_provider",
            Msg(f"プロバイダー「{provider}」は登録されていません。", f"Unknown provider '{provider}'."),
            "provider",
        )


class UnknownExam(RuleError):
    status = 404

    def __init__(self, exam: str | None, field: str = "exam"):
        super().__init__(
            "unknown_exam",
            Msg(f"試験「{exam}」はカタログにありません。", f"Unknown exam '{exam}'."),
            field,
        )


class RuleRefusal(RuleError):
    """Well-formed input that the rules refuse (HTTP 422)."""

    status = 422
