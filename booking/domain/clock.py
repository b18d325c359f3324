"""Time is injected: services ask a clock, tests pass a fake one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class ScaledClock:
    """Time that runs ``factor`` times faster than real time, from ``start``.

    Tests and demos run a "120-minute" conference in two minutes of real time (factor 60)
    against real Asterisk: every duration in the system is read from this clock.
    """

    def __init__(self, start: datetime, factor: float) -> None:
        import time

        self._start = start
        self._factor = factor
        self._t0 = time.monotonic()
        self._monotonic = time.monotonic

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._t0) * self._factor)

    def real_seconds(self, delta: timedelta) -> float:
        """How long ``delta`` of this clock's time takes in real seconds."""
        return delta.total_seconds() / self._factor
