"""1. Latency: one ``BookingService.request`` at a time, at each size of the booking table.

Each round makes one request (a new customer's 60-minute panel booking) and sends it to every
service variant in turn, in a rotating order, so that the variants share the machine's noise:
``ledger`` (the service: the capacity ledger's slots) and ``sweep (before)`` (the check before
the ledger, bench/results/booking-2026-12-02.md: the overlapping bookings' seats summed, their
rows swept when that leaves no room). Then refusals: a window's capacity set one seat short of
the request, so that both variants refuse it and compute the suggestions, each its own way.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from bench.booking_common import NOW, add_profiles, summary_ms
from booking.domain import capacity
from booking.domain.clock import FakeClock
from booking.domain.errors import CapacityExceeded, RuleViolation
from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.ports import Transaction
from booking.services.seats import live_booked
from booking.settings import BookingSettings
from booking.store.reservations import ReservationRepository
from booking.store.unit_of_work import SqlUnitOfWork

SLOW_COMMIT_MS = 5.0  # a COMMIT this long did more than write the booking (SQLite: a WAL checkpoint in it)
LENGTH = timedelta(minutes=60)


class Sweep(BookingService):
    """The capacity check before the ledger (a810737): every booking overlapping the window read
    from the reservations' index, its seats summed, its rows swept when the sum leaves no room;
    a refusal reads +-24 h of rows and searches them (booking.domain.capacity.check). Its
    bookings are still written to the ledger (one store): the insert costs what the ledger's does."""

    def _fits(self, tx: Transaction, start: datetime, end: datetime, seats: int, exclude: int | None) -> bool:
        longest = timedelta(days=self._s.absolute_max_window_days)
        room = self._s.system_capacity - seats - tx.live.seats_held(start, end)
        if room < 0:
            return False
        if tx.reservations.seats_overlapping(start, end, longest, exclude) <= room:
            return True
        return tx.reservations.peak_reserved(start, end, longest, exclude) <= room

    def _check_capacity(
        self,
        tx: Transaction,
        start: datetime | None,
        end: datetime | None,
        seats: int,
        exclude: int | None = None,
        earliest: datetime | None = None,
    ) -> None:
        if start is None or end is None or self._fits(tx, start, end, seats, exclude):
            return
        longest = timedelta(days=self._s.absolute_max_window_days)
        search = timedelta(hours=self._s.suggestion_search_hours)
        lo, hi = capacity.horizon(start, end, search)
        booked = tx.reservations.booked_overlapping(lo, hi, longest, exclude)
        now = earliest or self._clock.now()
        refusal = capacity.check(
            booked,
            start,
            end,
            seats,
            self._s.system_capacity,
            not_before=max(start - search, now),
            not_after=start + search,
            suggestions=self._s.suggestions,
            live=live_booked(tx),
        )
        if refusal is not None:
            raise CapacityExceeded(refusal, seats)


# The services measured side by side; "ledger" is the one the verdict judges.
VARIANTS: dict[str, type[BookingService]] = {"ledger": BookingService, "sweep (before)": Sweep}


@dataclass
class Latency:
    backend: str
    bookings: int
    load_seconds: float
    capacity: int
    request: dict[str, dict[str, float]]  # check + insert, by VARIANTS name
    outcomes: dict[str, dict[str, int]]
    slow_commits: dict[str, int]  # requests whose COMMIT took over SLOW_COMMIT_MS, by variant
    refusal: dict[str, dict[str, float]]  # a refusal with its suggestions, by variant
    suggestions: float  # suggested starts per ledger refusal, on average
    window_rows: float  # bookings overlapping a measured window: what the sweep reads, on average
    mismatches: int  # refusals whose peak differs between the variants, or a suggestion that does not fit


class CommitClock:
    """When the last COMMIT on the engine began (the engine's ``commit`` event fires just before)."""

    def __init__(self, engine: Engine) -> None:
        self.at = 0
        event.listen(engine, "commit", self._mark)

    def _mark(self, _conn: Any) -> None:
        self.at = time.perf_counter_ns()


def new_request(rand: random.Random, seats: int | None = None) -> BookingRequest:
    start = NOW + timedelta(minutes=rand.randrange(60, 19 * 24 * 60))
    return BookingRequest(ReservationKind.PANEL, start, start + LENGTH, seats or rand.randint(1, 10))


def one_request(
    service: BookingService, pid: int, req: BookingRequest, commits: CommitClock
) -> tuple[int, str, int, Any]:
    """The request's time, its outcome, the time from its COMMIT to its return, and the refusal."""
    t = time.perf_counter_ns()
    refused = None
    try:
        service.request(pid, req)
        outcome = "booked"
    except CapacityExceeded as exc:
        outcome, refused = "refused", exc.refusal
    except RuleViolation as exc:
        outcome = f"rule:{exc.code}"
    done = time.perf_counter_ns()
    return done - t, outcome, done - commits.at if commits.at > t else 0, refused


def measure(
    backend: str,
    engine: Engine,
    bookings: int,
    load_s: float,
    samples: int,
    refusals: int,
    baseline_refusals: int,
    log: Callable[[str], None],
) -> Latency:
    """The requests and the refusals at the table's current size."""
    seats_cap = max(1000, bookings // 20)  # room for the requests: the load holds ~2 % at once
    warmup = max(60, samples // 5)  # PostgreSQL prepares a statement at its 5th run, per connection
    ids = add_profiles(
        engine, len(VARIANTS) * (samples + warmup) + refusals + baseline_refusals, f"bench-{bookings}"
    )
    settings = BookingSettings(system_capacity=seats_cap)
    commits = CommitClock(engine)
    services = {v: cls(SqlUnitOfWork(engine), FakeClock(NOW), settings) for v, cls in VARIANTS.items()}
    names = list(services)
    times: dict[str, list[int]] = {v: [] for v in names}
    outcomes: dict[str, Counter[str]] = {v: Counter() for v in names}
    slow: Counter[str] = Counter()
    rand = random.Random(11 + bookings)
    for i in range(samples + warmup):
        req = new_request(rand)
        for variant in names[i % len(names) :] + names[: i % len(names)]:
            elapsed, outcome, commit_ns, _ = one_request(services[variant], ids.pop(), req, commits)
            if i >= warmup:
                times[variant].append(elapsed)
                outcomes[variant][outcome] += 1
                slow[variant] += commit_ns > SLOW_COMMIT_MS * 1e6

    refusal_ns, suggested, rows, mismatches = _refusals(
        engine, bookings, refusals, baseline_refusals, ids, rand
    )
    log(f"  {backend} at {bookings:,}: {samples} requests and {refusals} refusals measured")
    return Latency(
        backend,
        bookings,
        round(load_s, 2),
        seats_cap,
        {v: summary_ms(times[v]) for v in names},
        {v: dict(outcomes[v]) for v in names},
        {v: slow[v] for v in names},
        {v: summary_ms(refusal_ns[v]) for v in names if refusal_ns[v]},
        round(statistics.fmean(suggested), 2) if suggested else 0.0,
        round(statistics.fmean(rows), 1) if rows else 0.0,
        mismatches,
    )


def _refusals(
    engine: Engine, bookings: int, refusals: int, baseline_refusals: int, ids: list[int], rand: random.Random
) -> tuple[dict[str, list[int]], list[int], list[int], int]:
    """Refusals by each variant: their times, the ledger's suggestions, the rows a sweep reads
    (the window's), and the disagreements with the sweep."""
    # Refusals: one seat short at the window's own peak, so both refuse and look for starts.
    names = list(VARIANTS)
    commits = CommitClock(engine)
    settings = BookingSettings()
    refusal_ns: dict[str, list[int]] = {v: [] for v in names}
    suggested: list[int] = []
    rows: list[int] = []
    mismatches = 0
    longest = timedelta(days=settings.absolute_max_window_days)
    # The sweep's refusal is quadratic in the rows near the window (each candidate start swept
    # again): ~0.15 s at 10 000 bookings, ~4 s at 100 000, hours at 1 000 000. Fewer, then none.
    baseline_refusals = baseline_refusals if bookings <= 10_000 else 1 if bookings <= 100_000 else 0
    for i in range(refusals):
        req = new_request(rand, seats=5)
        assert req.starts_at is not None and req.ends_at is not None
        with engine.connect() as conn:
            repo = ReservationRepository(conn)
            held = repo.ledger_peak(req.starts_at, req.ends_at)
            swept = repo.peak_reserved(req.starts_at, req.ends_at, longest)
            rows.append(len(repo.booked_overlapping(req.starts_at, req.ends_at, longest)))
            conn.rollback()
        mismatches += held != swept
        tight = BookingSettings(system_capacity=held + req.seats - 1)
        order = names if i % 2 else names[::-1]
        for variant in order:
            if variant != "ledger" and len(refusal_ns[variant]) >= baseline_refusals:
                continue
            service = VARIANTS[variant](SqlUnitOfWork(engine), FakeClock(NOW), tight)
            elapsed, outcome, _, refusal = one_request(service, ids.pop(), req, commits)
            if outcome != "refused":
                mismatches += 1
                continue
            refusal_ns[variant].append(elapsed)
            if variant == "ledger":
                suggested.append(len(refusal.suggested_starts))
                mismatches += refusal.peak_reserved != held
                with engine.connect() as conn:
                    repo = ReservationRepository(conn)
                    for s in refusal.suggested_starts:  # each one books: by the sweep
                        mismatches += (
                            repo.peak_reserved(s, s + LENGTH, longest) + req.seats > tight.system_capacity
                        )
                    conn.rollback()
    return refusal_ns, suggested, rows, mismatches
