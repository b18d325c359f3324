"""The seat and PIN-lockout gauges of /metrics, kept true to the booking store (the seats
reserved, the live seats of anytime rooms' members, the capacity, the lockouts).

The store is read in a worker thread, never on the event loop: every ``period_s`` by a job
that runs beside the controller, and on demand when the dashboard is viewed. Each read sets
the gauges, so a scrape only copies numbers already in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog

from booking.services.figures import BookingFigures, FiguresService
from conference_ivr.metrics import LOCKOUT_SCOPES, Metrics

log = structlog.get_logger(__name__)

REFRESH_S = 15.0  # Prometheus' default scrape interval: fresher gauges would not be seen


class BookingGauges:
    """Keeps the seat and lockout gauges of ``metrics`` true to the booking store."""

    def __init__(self, figures: FiguresService, metrics: Metrics, period_s: float = REFRESH_S) -> None:
        self._figures = figures
        self._metrics = metrics
        self._period_s = period_s

    async def refresh(self, live_numbers: Iterable[str] = ()) -> BookingFigures:
        figures = await asyncio.to_thread(self._figures.read, tuple(live_numbers))
        self.publish(figures)
        return figures

    def publish(self, figures: BookingFigures) -> None:
        m = self._metrics
        m.seats_capacity.set(figures.capacity)
        m.live_seats.set(figures.live_seats)
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
