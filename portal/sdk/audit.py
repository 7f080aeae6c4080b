"""The audit log: every change is recorded in its transaction with the user who made it."""
from portal.audit import REDACTED, record, redact, snapshot

__all__ = ["record", "snapshot", "redact", "REDACTED"]
