"""The journey's view of the booking store, off the event loop.

The store is synchronous SQLAlchemy; every call runs in a worker thread so the asyncio
controller never blocks on the database.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from booking.service import BookingService, DialInOutcome


class DialInDirectory(Protocol):
    async def conference_exists(self, conference_number: str) -> bool: ...

    async def dial_in(self, conference_number: str, pin: str) -> DialInOutcome: ...


class ThreadedDirectory:
    def __init__(self, service: BookingService) -> None:
        self._service = service

    async def conference_exists(self, conference_number: str) -> bool:
        return await asyncio.to_thread(self._service.conference_exists, conference_number)

    async def dial_in(self, conference_number: str, pin: str) -> DialInOutcome:
        return await asyncio.to_thread(self._service.dial_in, conference_number, pin)
