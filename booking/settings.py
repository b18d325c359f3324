"""Booking limits; every default is the value the source documents state (R-numbers)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel


class BookingSettings(BaseModel):
    join_lead_minutes: int = 5  # R28: dial-in opens 5 minutes before the start
    pin_length: int = 6
    conference_number_length: int = 6
    default_profile: str = "operator"

    system_capacity: int = 200  # R7: seats shared by every booking at any instant
    on_demand_max_minutes: int = 120  # R3, R10
    on_demand_max_seats: int = 20  # R3
    panel_min_lead_minutes: int = 10  # R23
    panel_max_ahead_days: int = 30  # R23
    panel_max_window_days: int = 14  # R24
    panel_max_seats: int = 30  # R30
    anytime_max_seats: int = 30  # R30 applies to anytime rooms too
    max_active_per_profile: int = 3  # R27
    ended_visible_minutes: int = 60  # R27
    # Alternatives offered on a capacity refusal are searched this far either side.
    suggestion_search_hours: int = 24
    suggestions: int = 3
    # No reservation, even one an operator approves, is longer than this: it bounds the
    # capacity query to bookings that start within this span before the window.
    absolute_max_window_days: int = 14

    phone_region: str = "CZ"  # how caller numbers without a country code are read (mobile or not)

    # PIN guessing, across calls (per caller number and per conference)
    pin_per_caller: int = 5
    pin_per_conference: int = 15
    pin_window_minutes: int = 60
    pin_lockout_minutes: int = 60
    pin_base_delay_s: float = 1.0
    pin_max_delay_s: float = 16.0

    @property
    def join_lead(self) -> timedelta:
        return timedelta(minutes=self.join_lead_minutes)

    @property
    def ended_visible(self) -> timedelta:
        return timedelta(minutes=self.ended_visible_minutes)
