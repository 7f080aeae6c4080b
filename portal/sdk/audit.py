"""The audit log: every change is recorded in its transaction with the user who made it."""
from portal.audit import last_event, record, snapshot

__all__ = ["record", "snapshot", "last_event"]
