"""The PIN guard's counters and the usage legs in memory, as booking.store.pin_attempts and
booking.store.usage keep them."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from booking.domain.model import ReservationStatus, Role
from booking.domain.pin_guard import Attempts
from booking.domain.usage import EndReason, Leg
from tests.support.fakes.state import FakeState


class FakePinAttempts:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def serialise(self) -> None:
        """Nothing to wait for: the fake runs one unit of work at a time, in one thread."""

    def get_many(self, keys: list[str]) -> list[Attempts]:
        return [self._s.pins.get(k) or Attempts(k) for k in keys]

    def put(self, a: Attempts) -> None:
        self._s.pins[a.key] = a

    def clear(self, key: str) -> bool:
        return self._s.pins.pop(key, None) is not None

    def prune(self, started_before: datetime, now: datetime) -> int:
        stale = [
            a.key
            for a in self._s.pins.values()
            if a.window_start is not None
            and a.window_start < started_before
            and (a.locked_until is None or a.locked_until <= now)
        ]
        for key in stale:
            del self._s.pins[key]
        return len(stale)

    def locked(self, now: datetime) -> list[Attempts]:
        held = (a for a in self._s.pins.values() if a.locked_until is not None and a.locked_until > now)
        return sorted(held, key=lambda a: a.key)


class FakeUsage:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def open(self, leg: Leg) -> bool:
        if leg.uniqueid in self._s.legs:
            return False
        self._s.legs[leg.uniqueid] = dataclasses.replace(leg, left_at=None, end_reason=None)
        return True

    def close(self, uniqueid: str, at: datetime, reason: EndReason) -> bool:
        leg = self._s.legs.get(uniqueid)
        if leg is None or leg.left_at is not None:
            return False
        self._s.legs[uniqueid] = dataclasses.replace(leg, left_at=at, end_reason=reason)
        return True

    def get(self, uniqueid: str) -> Leg | None:
        return self._s.legs.get(uniqueid)

    def open_legs(self, node: str | None = None) -> list[Leg]:
        legs = (g for g in self._s.legs.values() if g.left_at is None and node in (None, g.node))
        return sorted(legs, key=lambda g: g.joined_at)

    def roles_of(self, reservation_id: int, caller_number: str) -> set[Role]:
        return {
            g.role
            for g in self._s.legs.values()
            if g.reservation_id == reservation_id and g.caller_number == caller_number
        }

    def for_reservation(self, reservation_id: int) -> list[Leg]:
        mine = (g for g in self._s.legs.values() if g.reservation_id == reservation_id)
        return sorted(mine, key=lambda g: (g.joined_at, g.uniqueid))

    def mark_cap_warned(self, uniqueid: str, at: datetime) -> bool:
        leg = self._s.legs.get(uniqueid)
        if leg is None or leg.cap_warned_at is not None:
            return False
        self._s.legs[uniqueid] = dataclasses.replace(leg, cap_warned_at=at)
        return True

    def recorded_name(self, reservation_id: int, caller_number: str) -> str | None:
        named = [
            g
            for g in self._s.legs.values()
            if g.reservation_id == reservation_id and g.caller_number == caller_number and g.name_file
        ]
        return max(named, key=lambda g: g.joined_at).name_file if named else None

    def name_files(self, reservation_id: int) -> list[str]:
        return [g.name_file for g in self.for_reservation(reservation_id) if g.name_file]

    def expired_names(self, left_before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        gone = {ReservationStatus.DELETED, ReservationStatus.REJECTED}

        def expired(g: Leg) -> bool:
            r = self._s.reservations.get(g.reservation_id or 0)
            return g.left_at is not None and (g.left_at < left_before or (r is not None and r.status in gone))

        found = sorted(
            (g for g in self._s.legs.values() if g.name_file and expired(g)), key=lambda g: g.left_at or 0
        )
        return [(g.uniqueid, g.name_file or "") for g in found[:limit]]

    def forget_names(self, uniqueids: list[str]) -> int:
        named = [u for u in uniqueids if u in self._s.legs and self._s.legs[u].name_file]
        for u in named:
            self._s.legs[u] = dataclasses.replace(self._s.legs[u], name_file=None)
        return len(named)
