"""Booking limits; every default is the value the source documents state."""

from __future__ import annotations

from pydantic import BaseModel


class BookingSettings(BaseModel):
    join_lead_minutes: int = 5  # R28: dial-in opens 5 minutes before the start
    pin_length: int = 6
    conference_number_length: int = 6
    default_profile: str = "operator"
