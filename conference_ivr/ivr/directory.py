"""The IVR's view of the booking store, off the event loop.

The store is synchronous SQLAlchemy; every lookup runs in a worker thread so the asyncio
controller never blocks on the database. The IVR has threads of its own: a caller waiting
for the PIN check never queues behind the controller's other database work (usage records,
lifecycle ticks), and few threads means little fighting with the event loop for the GIL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from booking.services.dialin import DialInOutcome, DialInService

T = TypeVar("T")


class DialInDirectory(Protocol):
    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome: ...


class ThreadedDirectory:
    def __init__(self, service: DialInService, threads: int = 2) -> None:
        self._service = service
        # Threads start on the first lookup, not here.
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ivr-lookup")
        # Writes on a caller's path (the live seat) wait their turn for SQLite's one writer: on
        # a thread of their own they queue here, and no PIN check waits behind them for a
        # lookup thread (at ~100 joins/s a join's "after the PIN" wait p50 was 12 ms with the
        # seat holds on the lookup threads, bench/agi_bench.py, 2026-12-03).
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ivr-write")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Any other blocking store read on a caller's path (the known name), on the same
        threads: under a burst of joins the event loop then fights these few for the GIL, not
        also asyncio's shared pool of up to six (which had the name lookups and the seat
        holds before, bench/agi_bench.py, 2026-12-03)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """A blocking store write on a caller's path, on the IVR's writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        return await self.run(self._service.dial_in, conference_number, pin, caller)

    def close(self) -> None:
        """Lookups in progress finish; their threads then end."""
        self._executor.shutdown(wait=False)
        self._writer.shutdown(wait=False)
