"""The live conferences' durable state in memory, as booking.store.live keeps it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from booking.domain.live import EndDecision, LiveSeat
from tests.support.fakes.state import FakeState


class FakeLive:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def decision(self, reservation_id: int, ends_at: datetime) -> EndDecision | None:
        return self._s.decisions.get((reservation_id, ends_at))

    def decide(self, decision: EndDecision) -> bool:
        key = (decision.reservation_id, decision.ends_at)
        if key in self._s.decisions:
            return False
        self._s.decisions[key] = decision
        return True

    def mark_warned(self, reservation_id: int, ends_at: datetime, at: datetime) -> bool:
        d = self._s.decisions.get((reservation_id, ends_at))
        if d is None or d.warned_at is not None:
            return False
        self._s.decisions[(reservation_id, ends_at)] = dataclasses.replace(d, warned_at=at)
        return True

    def forget_decisions(self, reservation_id: int) -> int:
        keys = [k for k in self._s.decisions if k[0] == reservation_id]
        for k in keys:
            del self._s.decisions[k]
        return len(keys)

    def hold_seat(self, seat: LiveSeat) -> bool:
        if seat.uniqueid in self._s.seats:
            return False
        self._s.seats[seat.uniqueid] = seat
        return True

    def release_seats(self, uniqueids: Iterable[str]) -> int:
        return sum(self._s.seats.pop(u, None) is not None for u in list(uniqueids))

    def renew_seats(self, uniqueids: Iterable[str], until: datetime) -> int:
        moved = 0
        for u in list(uniqueids):
            seat = self._s.seats.get(u)
            if seat is not None and seat.held_until < until:
                self._s.seats[u] = dataclasses.replace(seat, held_until=until)
                moved += 1
        return moved

    def seats(self, node: str | None = None) -> list[LiveSeat]:
        held = (s for s in self._s.seats.values() if node in (None, s.node))
        return sorted(held, key=lambda s: (s.held_from, s.uniqueid))

    def release_node_seats(self, node: str) -> int:
        return self.release_seats([u for u, s in self._s.seats.items() if s.node == node])

    def seats_held(self, start: datetime, end: datetime) -> int:
        return sum(1 for s in self._s.seats.values() if s.held_until > start and s.held_from < end)
