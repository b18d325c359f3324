"""Seats and PIN lockouts from the booking store, for /metrics and the operations dashboard.

The store is read in a worker thread, never on the event loop: every ``period_s`` by a job
that runs beside the controller, and on demand when the dashboard is viewed. Each read sets
the gauges, so a scrape only copies numbers already in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from booking.domain import capacity
from booking.domain.capacity import Booked
from booking.domain.model import Reservation
from booking.domain.pin_guard import Attempts
from booking.services.booking import BookingService
from conference_ivr.metrics import LOCKOUT_SCOPES, Metrics

log = structlog.get_logger(__name__)

REFRESH_S = 15.0  # Prometheus' default scrape interval: fresher gauges would not be seen
# The label values of dialconf_seats_reserved (metrics.SEAT_HORIZONS, same order) and their spans.
HORIZONS = {"now": timedelta(0), "1h": timedelta(hours=1), "2h": timedelta(hours=2), "4h": timedelta(hours=4)}


@dataclass(frozen=True)
class BookingFigures:
    at: datetime  # the booking clock's now when read
    capacity: int  # seats every booking shares at any instant
    reserved: dict[str, int]  # horizon -> seats reserved (now; or the peak until now+horizon)
    lockouts: list[Attempts]  # keys locked out now
    # conference number -> the reservation it runs under now (only for the numbers asked)
    running: dict[str, Reservation | None] = field(default_factory=dict)

    def lockouts_by_scope(self) -> dict[str, int]:
        counts = dict.fromkeys(LOCKOUT_SCOPES, 0)
        for a in self.lockouts:
            scope = a.key.partition(":")[0]
            counts[scope] = counts.get(scope, 0) + 1
        return counts


def reserved_at(booked: Iterable[Booked], at: datetime) -> int:
    return sum(b.seats for b in booked if b.starts_at <= at < b.ends_at)


def read_figures(booking: BookingService, live_numbers: Iterable[str] = ()) -> BookingFigures:
    """Blocking (the store): call it in a thread. A few indexed reads, whatever the table size."""
    now = booking.clock.now()
    s = booking.settings
    longest = timedelta(days=s.absolute_max_window_days)
    with booking.uow(read_only=True) as repo:
        booked = repo.booked_overlapping(now, now + max(HORIZONS.values()), longest)
    reserved = {
        name: capacity.peak(booked, now, now + span)[0] if span else reserved_at(booked, now)
        for name, span in HORIZONS.items()
    }
    dialin = booking.dialin
    running = {number: dialin.current_reservation(number) for number in live_numbers}
    return BookingFigures(now, s.system_capacity, reserved, dialin.pin_lockouts(), running)


class BookingGauges:
    """Keeps the seat and lockout gauges of ``metrics`` true to the booking store."""

    def __init__(self, booking: BookingService, metrics: Metrics, period_s: float = REFRESH_S) -> None:
        self._booking = booking
        self._metrics = metrics
        self._period_s = period_s

    async def refresh(self, live_numbers: Iterable[str] = ()) -> BookingFigures:
        figures = await asyncio.to_thread(read_figures, self._booking, tuple(live_numbers))
        self.publish(figures)
        return figures

    def publish(self, figures: BookingFigures) -> None:
        m = self._metrics
        m.seats_capacity.set(figures.capacity)
        for horizon, seats in figures.reserved.items():
            m.seats_reserved.labels(horizon=horizon).set(seats)
        for scope, count in figures.lockouts_by_scope().items():
            if scope in LOCKOUT_SCOPES:  # a key of another shape never becomes a new series
                m.pin_lockouts_active.labels(scope=scope).set(count)
        m.booking_figures_timestamp.set(time.time())

    async def run(self) -> None:
        """The job beside the controller: refresh, then wait a period (a failed read is logged;
        the gauges keep their last values and the timestamp tells how old they are)."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("booking_figures.refresh_failed")
            await asyncio.sleep(self._period_s)
