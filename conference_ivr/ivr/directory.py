"""The IVR's view of the booking store, off the event loop.

The store is synchronous SQLAlchemy; every call runs in a worker thread so the asyncio
controller never blocks on the database.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from booking.dialin import DialInOutcome, DialInService


class DialInDirectory(Protocol):
    async def conference_exists(self, conference_number: str) -> bool: ...

    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome: ...


class ThreadedDirectory:
    def __init__(self, service: DialInService) -> None:
        self._service = service

    async def conference_exists(self, conference_number: str) -> bool:
        return await asyncio.to_thread(self._service.conference_exists, conference_number)

    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        return await asyncio.to_thread(self._service.dial_in, conference_number, pin, caller)
