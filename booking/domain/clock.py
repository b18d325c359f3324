"""Time is injected: services ask a clock, tests pass a fake one."""

from __future__ import annotations

import time
from collections.abc import Callable
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


class EpochScaledClock:
    """Time that runs ``factor`` times faster than the wall clock, from ``epoch``:
    ``epoch + (wall_now - epoch) * factor``.

    ScaledClock counts from when it was made, so two processes never agree on its time. This
    one is a function of the wall clock alone: a test process and a controller it starts (or
    kills and starts again) later, given the same epoch and factor, read the same time, as
    the kill -9 tests need. It follows the wall clock, so it jumps when the system time is
    set: for tests and demos, never for real callers.
    """

    def __init__(self, epoch: datetime, factor: float, wall: Callable[[], float] = time.time) -> None:
        if epoch.tzinfo is None:
            raise ValueError("the epoch needs a time zone: two processes must read it alike")
        if factor <= 0:
            raise ValueError(f"factor {factor}: time must run forwards")
        self.epoch = epoch
        self.factor = factor
        self._epoch_s = epoch.timestamp()
        self._wall = wall

    def now(self) -> datetime:
        elapsed = (self._wall() - self._epoch_s) * self.factor
        return (self.epoch + timedelta(seconds=elapsed)).astimezone(UTC)

    def real_seconds(self, delta: timedelta) -> float:
        """How long ``delta`` of this clock's time takes in real seconds."""
        return delta.total_seconds() / self.factor
