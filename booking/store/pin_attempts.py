"""Wrong-PIN counters per key (conference or caller number), shared by every controller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, delete, insert, select, update

from booking.domain.pin_guard import Attempts
from booking.store.tables import UtcDateTime, metadata

pin_attempts = Table(
    "pin_attempts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UtcDateTime, nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
)


def _attempts(row: Any) -> Attempts:
    return Attempts(row.key, row.failures, row.window_start, row.locked_until)


class PinAttemptsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> Attempts:
        row = self.conn.execute(select(pin_attempts).where(pin_attempts.c.key == key)).first()
        return Attempts(key) if row is None else _attempts(row)

    def put(self, a: Attempts) -> None:
        values = {"failures": a.failures, "window_start": a.window_start, "locked_until": a.locked_until}
        done = self.conn.execute(update(pin_attempts).where(pin_attempts.c.key == a.key).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(pin_attempts).values(key=a.key, **values))

    def clear(self, key: str) -> bool:
        return bool(self.conn.execute(delete(pin_attempts).where(pin_attempts.c.key == key)).rowcount)

    def locked(self, now: datetime) -> list[Attempts]:
        q = select(pin_attempts).where(pin_attempts.c.locked_until > now).order_by(pin_attempts.c.key)
        return [_attempts(r) for r in self.conn.execute(q)]
