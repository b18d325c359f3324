"""Wrong-PIN counters per key (caller number, web client, conference), shared by every
controller and web process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)

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
# Forgotten counters are pruned by age: keys are kept for any number keyed, existing or not.
Index("ix_pin_attempts_window", pin_attempts.c.window_start)

# Any constant: the PostgreSQL advisory lock that serialises the counters' writers.
PIN_LOCK_KEY = 0x4450494E  # "DPIN"


# Read for every caller's PIN check: built once (building costs about as much as running it).
_BY_KEYS = select(pin_attempts).where(pin_attempts.c.key.in_(bindparam("keys", expanding=True)))


def _attempts(row: Any) -> Attempts:
    return Attempts(row.key, row.failures, row.window_start, row.locked_until)


class PinAttemptsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def serialise(self) -> None:
        """Hold the counters' lock until the transaction ends: a wrong guess is answered from
        the count every earlier guess left. SQLite's writers hold it already (BEGIN IMMEDIATE);
        PostgreSQL takes a transaction-scoped advisory lock."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PIN_LOCK_KEY})

    def get(self, key: str) -> Attempts:
        return self.get_many([key])[0]

    def get_many(self, keys: list[str]) -> list[Attempts]:
        """The counters of these keys, in their order (a key never counted: no failures)."""
        found = {row.key: _attempts(row) for row in self.conn.execute(_BY_KEYS, {"keys": keys})}
        return [found.get(k) or Attempts(k) for k in keys]

    def put(self, a: Attempts) -> None:
        values = {"failures": a.failures, "window_start": a.window_start, "locked_until": a.locked_until}
        done = self.conn.execute(update(pin_attempts).where(pin_attempts.c.key == a.key).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(pin_attempts).values(key=a.key, **values))

    def clear(self, key: str) -> bool:
        return bool(self.conn.execute(delete(pin_attempts).where(pin_attempts.c.key == key)).rowcount)

    def prune(self, started_before: datetime, now: datetime) -> int:
        """Forget counters whose window started before ``started_before`` and that hold nothing."""
        stale = pin_attempts.c.window_start < started_before
        free = or_(pin_attempts.c.locked_until.is_(None), pin_attempts.c.locked_until <= now)
        return int(self.conn.execute(delete(pin_attempts).where(stale, free)).rowcount)

    def locked(self, now: datetime) -> list[Attempts]:
        q = select(pin_attempts).where(pin_attempts.c.locked_until > now).order_by(pin_attempts.c.key)
        return [_attempts(r) for r in self.conn.execute(q)]
