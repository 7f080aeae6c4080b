"""Database sessions: one request-scoped session, transactions that turn lost races into a Conflict."""
from portal.db import AwareDateTime, session, transaction, utcnow

__all__ = ["session", "transaction", "AwareDateTime", "utcnow"]
