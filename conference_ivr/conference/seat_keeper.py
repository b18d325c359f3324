"""Anytime rooms' live members hold seats in the ledger bookings are checked against (R7):
held when the journey admits them (refused when the system is full), renewed while they talk,
freed when they leave or hang up on the way in, reconciled with Asterisk after each resync.
The store (booking.services.seats) holds the seats; this keeps which channels hold one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from booking.services.seats import LiveSeats
from conference_ivr.ami.events import AmiEvent, Hangup
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Member

log = structlog.get_logger(__name__)
# Runs a blocking store call off the event loop: by default asyncio's shared threads; the
# controller passes the IVR's own (conference_ivr.ivr.directory), as a hold is on a caller's path.
Runner = Callable[..., Awaitable[Any]]


class SeatKeeper:
    def __init__(
        self, seats: LiveSeats, live: LiveConferences, renew_s: float, hold_on: Runner = asyncio.to_thread
    ) -> None:
        self._seats = seats
        self._hold_on = hold_on
        self._live = live
        self._renew_s = renew_s
        self._holders: set[str] = set()  # channels holding a live seat (joined or on the way)
        self._arriving: set[str] = set()  # of those, the ones not in a conference yet
        # Seats to free, and one release transaction at a time: the callers who leave while
        # one runs are freed together by the next (a burst of hang-ups is a few writes, not one
        # each; a lone leave is freed at once, as before).
        self._leaving: list[str] = []
        self._releasing = asyncio.Lock()
        live.on_joined(lambda m: self._arriving.discard(m.uniqueid))
        live.on_left(self._left)
        live.on_rebuilt(self.reconcile)

    async def hold(self, reservation_id: int, uniqueid: str) -> bool:
        """A seat for a caller on the way into an anytime room; False: the system is full."""
        held: bool = await self._hold_on(self._seats.hold, reservation_id, uniqueid)
        if held:
            self._holders.add(uniqueid)
            self._arriving.add(uniqueid)
        return held

    async def _left(self, member: Member) -> None:
        await self._release(member.uniqueid)

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, Hangup) and self._live.member(event.uniqueid) is None:
            await self._release(event.uniqueid)  # hung up on the way in (or after leaving)

    async def _release(self, uniqueid: str) -> None:
        self._arriving.discard(uniqueid)
        if uniqueid not in self._holders:
            return
        self._holders.discard(uniqueid)
        self._leaving.append(uniqueid)
        async with self._releasing:
            if not self._leaving:
                return  # freed with the batch of the release that ran before this one
            batch, self._leaving = self._leaving, []
            await asyncio.to_thread(self._seats.release, batch)

    async def reconcile(self) -> None:
        """After a resync: seats of channels no longer in any conference are freed, and the
        ones still in are this controller's to renew (also those held before a restart)."""
        present = {m.uniqueid for c in self._live.conferences() for m in c.members.values()}
        freed = await asyncio.to_thread(self._seats.reconcile, present | self._arriving)
        self._holders = await asyncio.to_thread(self._seats.holders)
        log.info("seats.reconciled", freed=freed, held=len(self._holders))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._renew_s)
            try:
                if self._holders:
                    await asyncio.to_thread(self._seats.renew, list(self._holders))
            except Exception:
                log.exception("seats.renew_failed")
