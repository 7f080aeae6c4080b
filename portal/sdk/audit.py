"""The audit log: every change is recorded in its transaction with the user who made it."""
from portal.audit import REDACTED, last_event, record, redact, snapshot

__all__ = ["record", "snapshot", "last_event", "redact", "REDACTED"]
