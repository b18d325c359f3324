"""What the parts of the booking benchmark share: the fake clock, the databases, the statistics."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from booking.store.tables import profiles
from conference_ivr.cluster.postgres import Postgres

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the fake clock: bookings lie around it


def summary_ms(samples_ns: list[int]) -> dict[str, float]:
    ms = sorted(s / 1e6 for s in samples_ns)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))]

    return {
        "n": len(ms),
        "p50": round(pct(50), 3),
        "p90": round(pct(90), 3),
        "p99": round(pct(99), 3),
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
    }


@contextmanager
def database(backend: str, name: str, pg: Postgres | None, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
    else:
        assert pg is not None
        yield pg.create_database(name)


def add_profiles(engine: Engine, count: int, prefix: str) -> list[int]:
    with engine.begin() as conn:
        conn.execute(insert(profiles), [{"name": f"{prefix}-{i}", "created_at": NOW} for i in range(count)])
        q = select(profiles.c.id).where(profiles.c.name.like(f"{prefix}-%")).order_by(profiles.c.id)
        return [int(i) for i in conn.execute(q).scalars()]


def timed(fn: Callable[[], Any]) -> tuple[int, Any]:
    t = time.perf_counter_ns()
    out = fn()
    return time.perf_counter_ns() - t, out
