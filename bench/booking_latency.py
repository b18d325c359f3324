"""1. Latency: one ``BookingService.request`` at a time against 100 000 existing bookings.

Each round makes one request (a new customer's 60-minute panel booking) and sends it to every
service variant in turn, in a rotating order, so that the variants share the machine's noise.
Then the capacity reads alone, over the measured windows.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, event

from bench.booking_common import NOW, add_profiles, summary_ms, timed
from booking.domain import capacity
from booking.domain.clock import FakeClock
from booking.domain.errors import CapacityExceeded, RuleViolation
from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.ports import Transaction
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.store.reservations import ReservationRepository
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.bulk import analyze, load_bookings

SLOW_COMMIT_MS = 5.0  # a COMMIT this long did more than write the booking (SQLite: a WAL checkpoint in it)


class ExactSweep(BookingService):
    """Every check sweeps the window's rows: what a booking costs when the summed bound leaves
    no room (near the capacity)."""

    def _fits(self, tx: Transaction, start: datetime, end: datetime, seats: int, exclude: int | None) -> bool:
        longest = timedelta(days=self._s.absolute_max_window_days)
        return tx.reservations.peak_reserved(start, end, longest, exclude) + seats <= self._s.system_capacity


class Before(BookingService):
    """The check as it was before (a09fc3f): the window's rows as Booked objects (aware
    datetimes), swept in Python."""

    def _fits(self, tx: Transaction, start: datetime, end: datetime, seats: int, exclude: int | None) -> bool:
        longest = timedelta(days=self._s.absolute_max_window_days)
        booked = tx.reservations.booked_overlapping(start, end, longest, exclude)
        return capacity.fits(booked, start, end, seats, self._s.system_capacity)


# The services measured side by side; "service" is the one the verdict judges.
VARIANTS: dict[str, type[BookingService]] = {
    "service": BookingService,
    "exact sweep only": ExactSweep,
    "before (rows as Booked)": Before,
}


@dataclass
class Latency:
    backend: str
    existing: int
    load_seconds: float
    capacity: int
    request: dict[str, dict[str, float]]  # by VARIANTS name
    outcomes: dict[str, dict[str, int]]
    slow_commits: dict[str, int]  # requests whose COMMIT took over SLOW_COMMIT_MS, by variant
    capacity_read_service: dict[str, float]  # a refusal's read: window +-24 h, as Booked
    capacity_read_narrow: dict[str, float]  # the window alone, as Booked (the check before)
    capacity_read_bound: dict[str, float]  # the window's seats summed (a booking that fits)
    capacity_read_exact: dict[str, float]  # the window's exact peak (near the capacity)
    rows_service: float  # mean rows returned
    rows_narrow: float
    mean_bound_seats: float  # the summed bound and the true peak, on average over the windows
    mean_peak_seats: float
    read_mismatches: int  # windows where the exact peak differs from the sweep over Booked rows


class CommitClock:
    """When the last COMMIT on the engine began (the engine's ``commit`` event fires just before)."""

    def __init__(self, engine: Engine) -> None:
        self.at = 0
        event.listen(engine, "commit", self._mark)

    def _mark(self, _conn: Any) -> None:
        self.at = time.perf_counter_ns()


def new_request(rand: random.Random) -> BookingRequest:
    start = NOW + timedelta(minutes=rand.randrange(60, 19 * 24 * 60))
    return BookingRequest(ReservationKind.PANEL, start, start + timedelta(minutes=60), rand.randint(1, 10))


def one_request(
    service: BookingService, pid: int, req: BookingRequest, commits: CommitClock
) -> tuple[int, str, int]:
    """The request's time, its outcome, and the time from its COMMIT to its return."""
    t = time.perf_counter_ns()
    try:
        service.request(pid, req)
        outcome = "booked"
    except CapacityExceeded:
        outcome = "refused"
    except RuleViolation as exc:
        outcome = f"rule:{exc.code}"
    done = time.perf_counter_ns()
    return done - t, outcome, done - commits.at if commits.at > t else 0


def capacity_reads(engine: Engine, settings: BookingSettings, windows: list[datetime]) -> dict[str, Any]:
    """The capacity reads alone: a refusal's (window +-24 h, for suggestions), the window's rows
    as Booked (the check before), the summed bound and the exact peak. Values: rows, or seats."""
    longest = timedelta(days=settings.absolute_max_window_days)
    search = timedelta(hours=settings.suggestion_search_hours)
    kinds = ("wide", "narrow", "bound", "exact")
    out: dict[str, list[int]] = {f"{k}_{what}": [] for k in kinds for what in ("ns", "value")}
    mismatches = 0
    with engine.connect() as conn:
        repo = ReservationRepository(conn)
        for start in windows:
            end = start + timedelta(minutes=60)
            ns, rows = timed(partial(repo.booked_overlapping, start - search, end + search, longest))
            out["wide_ns"].append(ns)
            out["wide_value"].append(len(rows))
            ns, rows = timed(partial(repo.booked_overlapping, start, end, longest))
            out["narrow_ns"].append(ns)
            out["narrow_value"].append(len(rows))
            ns, bound = timed(partial(repo.seats_overlapping, start, end, longest))
            out["bound_ns"].append(ns)
            out["bound_value"].append(bound)
            ns, exact = timed(partial(repo.peak_reserved, start, end, longest))
            out["exact_ns"].append(ns)
            out["exact_value"].append(exact)
            mismatches += exact != capacity.peak(rows, start, end)[0] or bound != sum(b.seats for b in rows)
        conn.rollback()
    out["mismatches"] = [mismatches]
    return out


def latency(
    backend: str, url: str, existing: int, samples: int, capacity_seats: int, log: Callable[[str], None]
) -> Latency:
    upgrade(url)
    engine = make_engine(url)
    try:
        began = time.monotonic()
        load_bookings(engine, existing, NOW - timedelta(days=10), 30, NOW, seed=7)
        load_s = time.monotonic() - began
        log(f"  {backend}: {existing} bookings loaded in {load_s:.1f} s")
        if backend == "postgresql":
            analyze(engine)  # what autovacuum does after a bulk load

        warmup = max(20, samples // 20)
        ids = add_profiles(engine, len(VARIANTS) * (samples + warmup), "bench")
        settings = BookingSettings(system_capacity=capacity_seats)
        commits = CommitClock(engine)
        services = {v: cls(SqlUnitOfWork(engine), FakeClock(NOW), settings) for v, cls in VARIANTS.items()}
        names = list(services)
        times: dict[str, list[int]] = {v: [] for v in names}
        outcomes: dict[str, Counter[str]] = {v: Counter() for v in names}
        slow: Counter[str] = Counter()
        rand = random.Random(11)
        windows: list[datetime] = []
        for i in range(samples + warmup):
            req = new_request(rand)
            for variant in names[i % len(names) :] + names[: i % len(names)]:
                elapsed, outcome, commit_ns = one_request(services[variant], ids.pop(), req, commits)
                if i >= warmup:
                    times[variant].append(elapsed)
                    outcomes[variant][outcome] += 1
                    slow[variant] += commit_ns > SLOW_COMMIT_MS * 1e6
            if i >= warmup:
                assert req.starts_at is not None
                windows.append(req.starts_at)
        # 100 windows: a refusal's wide read takes tens of ms each (the bench's budget).
        reads = capacity_reads(engine, settings, windows[:100])
        return Latency(
            backend,
            existing,
            round(load_s, 2),
            capacity_seats,
            {v: summary_ms(times[v]) for v in names},
            {v: dict(outcomes[v]) for v in names},
            {v: slow[v] for v in names},
            summary_ms(reads["wide_ns"]),
            summary_ms(reads["narrow_ns"]),
            summary_ms(reads["bound_ns"]),
            summary_ms(reads["exact_ns"]),
            round(statistics.fmean(reads["wide_value"]), 1),
            round(statistics.fmean(reads["narrow_value"]), 1),
            round(statistics.fmean(reads["bound_value"]), 1),
            round(statistics.fmean(reads["exact_value"]), 1),
            reads["mismatches"][0],
        )
    finally:
        engine.dispose()
