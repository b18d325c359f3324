"""2. Race: many writers, each with its own engine and connection, book random windows of one
day against a small capacity, up to a number of attempts each or a time limit, whichever comes
first (the exact number run is reported). Then the confirmed seats are swept over every instant:
overbooked instants must be 0.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bench.booking_common import NOW
from booking.domain.capacity import Booked
from booking.domain.clock import FakeClock
from booking.domain.errors import CapacityExceeded
from booking.domain.model import ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.store.tables import reservations
from booking.store.unit_of_work import SqlUnitOfWork


@dataclass
class Race:
    backend: str
    writers: int
    attempts_per_writer_max: int
    time_limit_s: float
    capacity: int
    attempts: int = 0
    per_writer: list[int] = field(default_factory=list)
    booked: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_seats: int = 0
    overbooked_instants: int = 0


RACE_DAY = NOW + timedelta(days=2)


@dataclass
class RaceRun:
    url: str
    settings: BookingSettings
    attempts: int
    seconds: float
    barrier: threading.Barrier
    result: Race
    lock: threading.Lock = field(default_factory=threading.Lock)


def race_writer(run: RaceRun, n: int) -> None:
    """Up to ``attempts`` bookings in RACE_DAY 00:00-18:00, or until ``seconds`` have passed."""
    rand = random.Random(1000 + n)
    engine = make_engine(run.url)  # its own engine: its own connection
    service = BookingService(SqlUnitOfWork(engine), FakeClock(NOW), run.settings)
    booked = refused = done = 0
    try:
        profile = service.profile_named(f"racer-{n}")
        run.barrier.wait()
        deadline = time.monotonic() + run.seconds
        while done < run.attempts and time.monotonic() < deadline:
            start = RACE_DAY + timedelta(minutes=15 * rand.randrange(0, 4 * 16))
            minutes = rand.choice((30, 60, 90, 120))
            seats = rand.randint(1, 20)
            try:
                if done % 4 == 3:
                    service.book(start, minutes, seats, profile=f"racer-{n}")
                else:
                    end = start + timedelta(minutes=minutes)
                    req = BookingRequest(ReservationKind.PANEL, start, end, seats)
                    service.request(profile.id, req, operator=True)
                booked += 1
            except CapacityExceeded:
                refused += 1
            done += 1
    except Exception as exc:
        with run.lock:
            run.result.errors.append(f"writer {n}: {type(exc).__name__}: {exc}"[:300])
    finally:
        engine.dispose()
        with run.lock:
            run.result.per_writer[n] = done
            run.result.booked += booked
            run.result.refused += refused


def race(backend: str, url: str, writers: int, attempts: int, seconds: float, capacity: int) -> Race:
    upgrade(url)
    result = Race(backend, writers, attempts, seconds, capacity, per_writer=[0] * writers)
    settings = BookingSettings(system_capacity=capacity)
    run = RaceRun(url, settings, attempts, seconds, threading.Barrier(writers + 1), result)
    threads = [threading.Thread(target=race_writer, args=(run, n), daemon=True) for n in range(writers)]
    for t in threads:
        t.start()
    run.barrier.wait()
    began = time.monotonic()
    for t in threads:
        t.join(seconds + 120)
    result.seconds = round(time.monotonic() - began, 2)
    if any(t.is_alive() for t in threads):
        result.errors.append("a writer did not finish (stuck?)")
    result.attempts = sum(result.per_writer)

    engine = make_engine(url)
    try:
        q = select(reservations.c.starts_at, reservations.c.ends_at, reservations.c.seats).where(
            reservations.c.status == ReservationStatus.ACTIVE.value
        )
        with engine.connect() as conn:
            booked = [Booked(r.starts_at, r.ends_at, r.seats) for r in conn.execute(q)]
    finally:
        engine.dispose()
    if len(booked) != result.booked:
        result.errors.append(f"{len(booked)} confirmed rows but {result.booked} bookings reported")
    result.peak_seats, result.overbooked_instants = sweep(booked, capacity)
    return result


def sweep(booked: list[Booked], capacity: int) -> tuple[int, int]:
    """The most seats held at once, and how many distinct instants hold more than ``capacity``."""
    edges = sorted([(b.starts_at, b.seats) for b in booked] + [(b.ends_at, -b.seats) for b in booked])
    level = peak = over = 0
    for i, (at, delta) in enumerate(edges):
        level += delta
        last_at_instant = i + 1 == len(edges) or edges[i + 1][0] != at
        if last_at_instant:
            peak = max(peak, level)
            over += level > capacity
    return peak, over
