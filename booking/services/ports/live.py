"""The live conferences' durable state (booking.domain.live): end decisions and live seats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from booking.domain.live import EndDecision, LiveSeat


class Live(Protocol):
    def decision(self, reservation_id: int, ends_at: datetime) -> EndDecision | None: ...

    def decide(self, decision: EndDecision) -> bool:
        """Store a decision unless one was taken for that end already (the first one stands)."""
        ...

    def mark_warned(self, reservation_id: int, ends_at: datetime, at: datetime) -> bool: ...

    def forget_decisions(self, reservation_id: int) -> int: ...

    def hold_seat(self, seat: LiveSeat) -> bool:
        """Hold a seat for a member (once per channel)."""
        ...

    def release_seats(self, uniqueids: Iterable[str]) -> int: ...

    def renew_seats(self, uniqueids: Iterable[str], until: datetime) -> int:
        """Move the members' seats ahead to ``until`` (never back)."""
        ...

    def seats(self, node: str | None = None) -> list[LiveSeat]:
        """The live seats, of one media node's members (``node``) or of all (None)."""
        ...

    def release_node_seats(self, node: str) -> int:
        """Free every seat of a media node's members (the node is dead)."""
        ...

    def seats_held(self, start: datetime, end: datetime) -> int:
        """Seats live members hold within [start, end), as if all were held at once."""
        ...
