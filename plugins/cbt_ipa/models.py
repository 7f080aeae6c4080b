"""The plugin's table: the IPA facts of a booking that the core Booking row does not hold."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlmodel import Field, SQLModel


class CbtIpaBookingFacts(SQLModel, table=True):
    """IPA-CH-2 / IPA-CH-3 / IPA-PAY facts of one core booking (one row per booking)."""

    __tablename__ = "cbt_ipa_booking_facts"

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    #: IPA-CH-2: a voucher booking's one year counts from the voucher's issue date.
    voucher_issued_on: Optional[date] = None
    #: IPA-PAY: a voucher past its expiry can no longer be used.
    voucher_expires_on: Optional[date] = None
    #: IPA-CH-3: FE with subject A exemption: the exemption's last valid day.
    exemption_valid_until: Optional[date] = None
