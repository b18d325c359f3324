"""The live conferences' durable state: end decisions and the live seats (booking.domain.live)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from booking.domain.live import EndDecision, EndOutcome, LiveSeat
from booking.store.live_tables import end_decisions, live_seats
from booking.store.tables import UtcDateTime


def _decision(row: Any) -> EndDecision:
    return EndDecision(
        row.reservation_id, row.ends_at, EndOutcome(row.outcome), row.decided_at, row.warned_at
    )


class LiveRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- end decisions ---------------------------------------------------------------

    def decision(self, reservation_id: int, ends_at: datetime) -> EndDecision | None:
        d = end_decisions.c
        q = select(end_decisions).where(d.reservation_id == reservation_id, d.ends_at == ends_at)
        row = self.conn.execute(q).first()
        return None if row is None else _decision(row)

    def decide(self, decision: EndDecision) -> bool:
        """Store a decision unless one was taken for that end already (the first one stands)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(end_decisions).values(**decision.__dict__))
        except IntegrityError:
            return False
        return True

    def mark_warned(self, reservation_id: int, ends_at: datetime, at: datetime) -> bool:
        d = end_decisions.c
        done = self.conn.execute(
            update(end_decisions)
            .where(d.reservation_id == reservation_id, d.ends_at == ends_at, d.warned_at.is_(None))
            .values(warned_at=at)
        )
        return bool(done.rowcount)

    def forget_decisions(self, reservation_id: int) -> int:
        q = delete(end_decisions).where(end_decisions.c.reservation_id == reservation_id)
        return int(self.conn.execute(q).rowcount)

    # --- live seats --------------------------------------------------------------------

    def hold_seat(self, seat: LiveSeat) -> bool:
        """Hold a seat for a member (once per channel: a replay moves nothing)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(live_seats).values(**seat.__dict__))
        except IntegrityError:
            return False
        return True

    def release_seats(self, uniqueids: Iterable[str]) -> int:
        ids = list(uniqueids)
        if not ids:
            return 0
        return int(self.conn.execute(delete(live_seats).where(live_seats.c.uniqueid.in_(ids))).rowcount)

    def renew_seats(self, uniqueids: Iterable[str], until: datetime) -> int:
        """Move the members' seats ahead to ``until`` (never back)."""
        ids = list(uniqueids)
        if not ids:
            return 0
        s = live_seats.c
        q = update(live_seats).where(s.uniqueid.in_(ids), s.held_until < until).values(held_until=until)
        return int(self.conn.execute(q).rowcount)

    def seats(self, node: str | None = None) -> list[LiveSeat]:
        """The live seats, of one media node's members (``node``) or of all (None)."""
        q = select(live_seats).order_by(live_seats.c.held_from, live_seats.c.uniqueid)
        if node is not None:
            q = q.where(live_seats.c.node == node)
        return [
            LiveSeat(r.uniqueid, r.reservation_id, r.held_from, r.held_until, r.node)
            for r in self.conn.execute(q)
        ]

    def release_node_seats(self, node: str) -> int:
        """Free every seat of a media node's members (the node is dead)."""
        return int(self.conn.execute(delete(live_seats).where(live_seats.c.node == node)).rowcount)

    def seats_held(self, start: datetime, end: datetime) -> int:
        """Seats live members hold within [start, end), counted as if all were held at once:
        never less than their peak there (they all began at or before now)."""
        return int(self.conn.execute(_SEATS_HELD, {"start": start, "end": end}).scalar_one())


# On every capacity check: built once, with its cache key.
_SEATS_HELD = select(func.count()).where(
    live_seats.c.held_until > bindparam("start", type_=UtcDateTime()),
    live_seats.c.held_from < bindparam("end", type_=UtcDateTime()),
)
