"""The reservations aggregate as the booking, dial-in, usage and messaging services use it:
profiles, rooms (a conference number and its PINs) and reservations, with the capacity they hold.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime, timedelta
from typing import Protocol

from booking.domain.account_plans import AccountPlan
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks
from booking.domain.model import Profile, Reservation, ReservationDraft, Room, RoomDraft


class Reservations(Protocol):
    # --- concurrency ------------------------------------------------------------------

    def lock_capacity(self) -> None:
        """Serialise capacity writers until the transaction ends (check, then insert)."""
        ...

    # --- profiles ---------------------------------------------------------------------

    def find_profile(self, name: str) -> int | None: ...

    def profile_id(self, name: str, now: datetime) -> int:
        """The id of a profile by name, created on first use (racing writers get one row)."""
        ...

    def add_profile(self, name: str, language: str, token_hash: str, now: datetime) -> Profile: ...

    def profile_by_token(self, token_hash: str) -> Profile | None: ...

    def get_profile(self, profile_id: int) -> Profile | None: ...

    def set_account_plan(self, profile_id: int, plan: AccountPlan) -> None: ...

    def profiles_on_plan(self, plan: AccountPlan, limit: int) -> list[Profile]:
        """Profiles on ``plan``, by name (at most ``limit``)."""
        ...

    # --- rooms ------------------------------------------------------------------------

    def live_numbers(self) -> Container[str]:
        """The conference numbers of live rooms (``number in live_numbers()``)."""
        ...

    def add_room(self, room: RoomDraft, now: datetime) -> Room: ...

    def release_room(self, room_id: int, now: datetime) -> None:
        """Free the room's conference number (its reservation was deleted or refused)."""
        ...

    def release_expired_rooms(self, before: datetime, now: datetime) -> None:
        """Free the numbers of rooms whose reservation ended before ``before`` or was refused
        or deleted."""
        ...

    # --- reservations -----------------------------------------------------------------

    def add_reservation(self, r: ReservationDraft, now: datetime) -> Reservation: ...

    def update_reservation(self, r: Reservation) -> None: ...

    def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    def reservations_for_profile(self, profile_id: int) -> list[Reservation]:
        """The profile's active and pending reservations, by start."""
        ...

    def count_active(self, profile_id: int, now: datetime) -> int:
        """R27: the profile's reservations that take one of its slots (not ended, not deleted)."""
        ...

    def pending(self) -> list[Reservation]:
        """Requests queued for an operator, oldest first."""
        ...

    def reservations_for_number(self, conference_number: str) -> list[Reservation]:
        """Confirmed reservations of the live room with this number, earliest first."""
        ...

    # --- capacity ---------------------------------------------------------------------

    def booked_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> list[Booked]:
        """Seats held by confirmed bookings overlapping [start, end) (none longer than
        ``longest``; ``exclude``: a reservation being changed)."""
        ...

    def seats_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        """Every seat of the confirmed bookings overlapping [start, end), summed: never less
        than the peak within the window."""
        ...

    def peak_reserved(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        """Exactly the most seats confirmed bookings hold at once within [start, end)."""
        ...

    # --- the capacity ledger: seats per slot, kept by every write that changes them ---------

    def ensure_ledger(self, slot: timedelta) -> None:
        """The ledger kept in slots of ``slot`` (rebuilt if kept in others)."""
        ...

    def ledger_peak(self, start: datetime, end: datetime, exclude: int | None = None) -> int:
        """Exactly the most seats confirmed bookings hold at once within [start, end)."""
        ...

    def ledger_busiest(
        self, start: datetime, end: datetime, exclude: int | None = None
    ) -> tuple[int, datetime]:
        """That peak, and the first instant it is held."""
        ...

    def ledger_slots(
        self, start: datetime, end: datetime, exclude: int | None = None, group: int = 1
    ) -> SlotPeaks:
        """The peak of every slot [start, end) reaches into (``exclude`` taken out where it
        holds a slot whole): an upper bound for any window within them. ``group`` > 1: slots
        ``group`` times as long, each with the most of its own (``exclude`` counted)."""
        ...
