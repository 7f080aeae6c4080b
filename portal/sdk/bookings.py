"""The core's booking lifecycle (sessions, seats, stored deadlines, change, cancel, lapse)."""
from portal.bookings import (
    ACTIVE, NewBooking, RefundAccountInput, SeatTaken, active_bookings, book, cancel, catalog, change, closure_rules,
    complete_refund, expire_lapsed, record_outcome, facts_for, mark_paid, org_context, policy_for, recompute_deadlines, release_seat,
    settings, store_deadlines, take_seat,
)

__all__ = ["ACTIVE", "NewBooking", "SeatTaken", "RefundAccountInput", "org_context", "closure_rules", "settings",
           "catalog", "book", "change", "cancel", "mark_paid", "complete_refund", "take_seat", "release_seat",
           "store_deadlines", "recompute_deadlines", "facts_for", "policy_for", "expire_lapsed", "record_outcome", "active_bookings"]
