"""Booking limits; every default is the value the source documents state (R-numbers)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel


class BookingSettings(BaseModel):
    join_lead_minutes: int = 5  # R28: dial-in opens 5 minutes before the start
    # New reservations get PINs this long; existing ones keep theirs (and a smaller budget).
    # 9 digits keep a 30-day anytime room's guessing odds under 1e-4 (docs/security/pin-guessing.md).
    pin_length: int = 9
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

    # PIN guessing across calls (booking.domain.pin_guard; the arithmetic behind the defaults is
    # in docs/security/pin-guessing.md). Per caller number: a lockout past the limit.
    pin_per_caller: int = 5
    pin_window_minutes: float = 60
    pin_lockout_minutes: float = 60
    # Per conference: a budget of wrong guesses per window; past it only callers whose number
    # joined the reservation before are heard (for pin_known_caller_tries wrong ones each).
    pin_per_conference: int = 10
    pin_conference_window_minutes: float = 15
    pin_known_caller_tries: int = 2
    # The web's moderator sign-in: its own counters (per client address, per conference).
    pin_web_per_client: int = 5
    pin_web_per_conference: int = 5
    # A wrong guess waits 1, 2, 4... seconds before the next prompt (or web answer).
    pin_base_delay_s: float = 1.0
    pin_max_delay_s: float = 16.0

    @property
    def join_lead(self) -> timedelta:
        return timedelta(minutes=self.join_lead_minutes)

    @property
    def ended_visible(self) -> timedelta:
        return timedelta(minutes=self.ended_visible_minutes)
