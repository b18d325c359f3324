"""Profiles, rooms and reservations in memory, with the SQL repository's rules
(booking.store.reservations): which rows hold capacity, when a number is free again."""

from __future__ import annotations

import dataclasses
from collections.abc import Container
from datetime import UTC, datetime, timedelta

from booking.domain import capacity, ledger
from booking.domain.account_plans import AccountPlan
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks
from booking.domain.model import (
    Profile,
    Reservation,
    ReservationDraft,
    ReservationStatus,
    Room,
    RoomDraft,
)
from booking.store.errors import Duplicate
from tests.support.fakes.state import FakeState, StoredProfile, StoredRoom

RELEASE_AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)  # a refused or deleted room's number: free now
RELEASED = (ReservationStatus.REJECTED, ReservationStatus.DELETED)
HOLDING = (ReservationStatus.ACTIVE, ReservationStatus.PENDING)


class FakeReservations:
    def __init__(self, state: FakeState) -> None:
        self._s = state
        self._slot = timedelta(minutes=1)

    def lock_capacity(self) -> None:
        """Nothing to wait for: the fake runs one unit of work at a time, in one thread."""

    # --- profiles ---------------------------------------------------------------------

    def find_profile(self, name: str) -> int | None:
        return next((i for i, p in self._s.profiles.items() if p.profile.name == name), None)

    def profile_id(self, name: str, now: datetime) -> int:
        found = self.find_profile(name)
        return found if found is not None else self.add_profile(name, "en", None, now).id

    def add_profile(self, name: str, language: str, token_hash: str | None, now: datetime) -> Profile:
        if self.find_profile(name) is not None:
            raise Duplicate(f"profile {name!r}")
        profile = Profile(self._s.new_id(), name, language)
        self._s.profiles[profile.id] = StoredProfile(profile, token_hash)
        return profile

    def profile_by_token(self, token_hash: str) -> Profile | None:
        return next((p.profile for p in self._s.profiles.values() if p.token_hash == token_hash), None)

    def get_profile(self, profile_id: int) -> Profile | None:
        stored = self._s.profiles.get(profile_id)
        return None if stored is None else stored.profile

    def set_account_plan(self, profile_id: int, plan: AccountPlan) -> None:
        stored = self._s.profiles.get(profile_id)
        if stored is not None:
            stored.profile = dataclasses.replace(stored.profile, account_plan=plan)

    def profiles_on_plan(self, plan: AccountPlan, limit: int) -> list[Profile]:
        found = sorted((p.profile for p in self._s.profiles.values()), key=lambda p: p.name)
        return [p for p in found if p.account_plan is plan][:limit]

    # --- rooms ------------------------------------------------------------------------

    def live_numbers(self) -> Container[str]:
        return {r.room.conference_number for r in self._s.rooms.values() if r.live}

    def add_room(self, room: RoomDraft, now: datetime) -> Room:
        if room.conference_number in self.live_numbers():
            raise Duplicate(f"live room {room.conference_number}")
        made = Room(**{**room.__dict__, "id": self._s.new_id()})
        self._s.rooms[made.id] = StoredRoom(made)
        return made

    def release_room(self, room_id: int, now: datetime) -> None:
        stored = self._s.rooms[room_id]
        if stored.live:
            stored.deleted_at = now

    def release_expired_rooms(self, before: datetime, now: datetime) -> None:
        for stored in self._s.rooms.values():
            if stored.live and stored.releasable_at is not None and stored.releasable_at < before:
                stored.deleted_at = now

    def _set_releasable(self, r: ReservationDraft) -> None:
        self._s.rooms[r.room.id].releasable_at = RELEASE_AT_ONCE if r.status in RELEASED else r.ends_at

    # --- reservations -----------------------------------------------------------------

    def add_reservation(self, r: ReservationDraft, now: datetime) -> Reservation:
        made = Reservation(**{**r.__dict__, "id": self._s.new_id()})
        self._s.reservations[made.id] = made
        self._set_releasable(made)
        return made

    def update_reservation(self, r: Reservation) -> None:
        if r.id not in self._s.reservations:
            return  # an UPDATE of no row
        # The room and the kind stay as they were made (number and PINs never change, R24).
        old = self._s.reservations[r.id]
        self._s.reservations[r.id] = dataclasses.replace(r, room=old.room, kind=old.kind)
        self._set_releasable(r)

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        return self._s.reservations.get(reservation_id)

    def reservations_for_profile(self, profile_id: int) -> list[Reservation]:
        mine = [
            r
            for r in self._s.reservations.values()
            if r.room.profile_id == profile_id and r.status in HOLDING
        ]
        return sorted(mine, key=_by_start)

    def count_active(self, profile_id: int, now: datetime) -> int:
        return sum(
            1
            for stored in self._s.rooms.values()
            if stored.room.profile_id == profile_id
            and (stored.releasable_at is None or stored.releasable_at > now)
        )

    def pending(self) -> list[Reservation]:
        return sorted(
            (r for r in self._s.reservations.values() if r.status is ReservationStatus.PENDING),
            key=lambda r: r.id,
        )

    def reservations_for_number(self, conference_number: str) -> list[Reservation]:
        found = [
            r
            for r in self._s.reservations.values()
            if r.room.conference_number == conference_number
            and self._s.rooms[r.room.id].live
            and r.status is ReservationStatus.ACTIVE
        ]
        return sorted(found, key=_by_start)

    # --- capacity ---------------------------------------------------------------------

    def booked_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> list[Booked]:
        held = []
        for r in self._s.reservations.values():
            if r.status is not ReservationStatus.ACTIVE or r.id == exclude:
                continue
            if r.starts_at is None or r.ends_at is None:
                continue  # anytime rooms hold no seats in advance
            if start - longest <= r.starts_at < end and r.ends_at > start:
                held.append(Booked(r.starts_at, r.ends_at, r.seats))
        return held

    def seats_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        return sum(b.seats for b in self.booked_overlapping(start, end, longest, exclude))

    def peak_reserved(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        booked = self.booked_overlapping(start, end, longest, exclude)
        return capacity.peak_seats((b.starts_at, b.ends_at, b.seats) for b in booked)

    # --- the capacity ledger: computed from the bookings each time (the SQL one keeps it) ----

    def _held(self, exclude: int | None) -> list[Booked]:
        return [
            Booked(r.starts_at, r.ends_at, r.seats)
            for r in self._s.reservations.values()
            if r.status is ReservationStatus.ACTIVE and r.id != exclude and r.starts_at and r.ends_at
        ]

    def ensure_ledger(self, slot: timedelta) -> None:
        self._slot = slot

    def ledger_peak(self, start: datetime, end: datetime, exclude: int | None = None) -> int:
        return capacity.peak(self._held(exclude), start, end)[0]

    def ledger_busiest(
        self, start: datetime, end: datetime, exclude: int | None = None
    ) -> tuple[int, datetime]:
        return capacity.peak(self._held(exclude), start, end)

    def ledger_slots(
        self, start: datetime, end: datetime, exclude: int | None = None, group: int = 1
    ) -> SlotPeaks:
        slot = self._slot * group
        built = ledger.build(self._held(exclude if group == 1 else None), slot)
        first = ledger.slot_of(start, slot)
        to = ledger.slot_of(end - timedelta(microseconds=1), slot) + 1
        return SlotPeaks(slot, first, [built.get(i, (0, 0))[1] for i in range(first, to)])


def _by_start(r: Reservation) -> tuple[bool, datetime, int]:
    # SQLite's order: an anytime reservation (no start) first, then by start and id.
    return (r.starts_at is not None, r.starts_at or RELEASE_AT_ONCE, r.id)
