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
from typing import Protocol, TypeVar

from booking.services.dialin import DialInOutcome, DialInService

T = TypeVar("T")


class DialInDirectory(Protocol):
    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome: ...


class ThreadedDirectory:
    def __init__(self, service: DialInService, threads: int = 2) -> None:
        self._service = service
        # Threads start on the first lookup, not here.
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ivr-lookup")

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        return await self._run(self._service.dial_in, conference_number, pin, caller)

    def close(self) -> None:
        """Lookups in progress finish; their threads then end."""
        self._executor.shutdown(wait=False)
