"""Bulk-load bookings straight into the tables (one transaction, executemany), not via the service.

Used by the store tier (query plans on a few thousand rows) and by ``bench/booking_bench.py``
(100 000 rows); the capacity ledger is rebuilt after. Rooms of reservations that ended before
``now`` are already released, as the running system would have left them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from booking.domain.credentials import is_trivial
from booking.domain.model import ReservationKind, ReservationStatus
from booking.store.ledger import SlotLedger
from booking.store.tables import profiles, reservations, rooms, span_class

# Minutes, and how often: mostly ordinary meetings, a few panels held open for days.
Lengths = Sequence[tuple[int, int]]
LENGTHS: Lengths = [
    (30, 30),
    (45, 10),
    (60, 30),
    (90, 15),
    (120, 10),
    (4 * 60, 3),
    (24 * 60, 1),
    (5 * 24 * 60, 1),
]


RELEASED_AFTER = timedelta(minutes=60)  # ended rooms keep their number this long (R27)


@dataclass(frozen=True)
class Loaded:
    bookings: int
    first_start: datetime
    last_start: datetime
    profile_ids: list[int]


def _numbers(count: int, rand: random.Random, taken: set[int]) -> list[str]:
    if count + len(taken) > 800_000:
        raise ValueError("at most 800 000 six-digit conference numbers")
    numbers: list[str] = []
    seen = set(taken)
    while len(numbers) < count:
        n = rand.randrange(100_000, 1_000_000)
        if n not in seen and not is_trivial(str(n)):
            seen.add(n)
            numbers.append(str(n))
    return numbers


def load_bookings(
    engine: Engine,
    count: int,
    first_start: datetime,
    days: float,
    now: datetime,
    seed: int = 1,
    profiles_count: int = 100,
    max_seats: int = 10,
    lengths: Lengths = LENGTHS,
    step_minutes: int = 1,
    ledger: bool = True,
) -> Loaded:
    """``count`` confirmed panel bookings starting uniformly over ``days`` from ``first_start``."""
    rand = random.Random(seed)
    span = timedelta(days=days).total_seconds()
    minutes = [m for m, _ in lengths]
    weights = [w for _, w in lengths]
    with engine.begin() as conn:
        base_profile = int(conn.execute(select(func.coalesce(func.max(profiles.c.id), 0))).scalar_one())
        base_room = int(conn.execute(select(func.coalesce(func.max(rooms.c.id), 0))).scalar_one())
        base_res = int(conn.execute(select(func.coalesce(func.max(reservations.c.id), 0))).scalar_one())
        profile_ids = [base_profile + i + 1 for i in range(profiles_count)]
        conn.execute(
            insert(profiles),
            [{"id": pid, "name": f"bulk-{pid}", "created_at": now} for pid in profile_ids],
        )
        room_rows: list[dict[str, Any]] = []
        res_rows: list[dict[str, Any]] = []
        live = conn.execute(select(rooms.c.conference_number).where(rooms.c.deleted_at.is_(None))).scalars()
        for i, number in enumerate(_numbers(count, rand, {int(n) for n in live})):
            step = 60 * step_minutes
            start = first_start + timedelta(seconds=int(rand.random() * span) // step * step)
            end = start + timedelta(minutes=rand.choices(minutes, weights)[0])
            room_id, res_id = base_room + i + 1, base_res + i + 1
            room_rows.append(
                {
                    "id": room_id,
                    "profile_id": rand.choice(profile_ids),
                    "conference_number": number,
                    "pin": "482915",
                    "admin_pin": "739164",
                    "created_at": now,
                    "deleted_at": now if end < now - RELEASED_AFTER else None,
                    "releasable_at": end,
                }
            )
            res_rows.append(
                {
                    "id": res_id,
                    "room_id": room_id,
                    "kind": ReservationKind.PANEL.value,
                    "starts_at": start,
                    "ends_at": end,
                    "seats": rand.randint(1, max_seats),
                    "status": ReservationStatus.ACTIVE.value,
                    "created_at": now,
                    "title": "",
                    "note": "",
                    "span_class": span_class(start, end),
                }
            )
        conn.execute(insert(rooms), room_rows)
        conn.execute(insert(reservations), res_rows)
        if conn.dialect.name == "postgresql":  # explicit ids leave the sequences behind
            for table in ("profiles", "rooms", "reservations"):
                seq = f"pg_get_serial_sequence('{table}', 'id')"
                conn.execute(text(f"SELECT setval({seq}, max(id)) FROM {table}"))
        if ledger:  # written around the repository: the capacity ledger built again from all
            slots = SlotLedger(conn)
            slots.rebuild(slots.slot())
    return Loaded(count, first_start, first_start + timedelta(seconds=span), profile_ids)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics (PostgreSQL: also the visibility map, for index-only scans)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
