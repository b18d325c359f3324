"""Turn ConfbridgeJoin/Leave into usage legs, off the event loop, and reconcile on resync.

Events are written in the order they arrived, by one worker: a short leg's Leave can never be
written before its Join. Times are taken when the event arrives, not when it is written.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime

import structlog

from booking.domain.clock import Clock
from booking.domain.usage import EndReason
from booking.services.usage import LiveLeg, UsageService
from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.roster import Member, Roster
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Write:
    """An event to write, with what the controller knew when it came."""

    event: AmiEvent
    at: datetime
    name: str | None  # the recorded name (a join)
    reason: EndReason  # why it ended (a leave)
    member: Member | None


class UsageRecorder:
    def __init__(self, usage: UsageService, roster: Roster, live: LiveConferences, clock: Clock) -> None:
        self._usage = usage
        self._roster = roster
        self._live = live
        self._clock = clock
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._reasons: dict[str, EndReason] = {}  # unique id or bridge name -> why it is about to end

    def note_end(self, key: str, reason: EndReason) -> None:
        """Say why a member (unique id) or a whole conference (bridge name) is being ended,
        before kicking: the leave that follows is recorded with this reason."""
        self._reasons[key] = reason

    async def on_event(self, event: AmiEvent) -> None:
        if not isinstance(event, ConfbridgeJoin | ConfbridgeLeave):
            return
        if names.is_announcer_channel(event.channel) or names.parse_bridge_name(event.conference) is None:
            return
        if isinstance(event, ConfbridgeJoin):
            self._reasons.pop(event.conference, None)  # a new session of a conference ended before
        member = self._roster.get(event.uniqueid)
        name = str(member.name_file) if member and member.name_file else None
        reason = EndReason.LEFT
        if isinstance(event, ConfbridgeLeave):
            noted = self._reasons.pop(event.uniqueid, None)
            reason = noted or self._reasons.get(event.conference) or reason
        self._queue.put_nowait(_Write(event, self._clock.now(), name, reason, member))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while not self._queue.empty():
            w = self._queue.get_nowait()
            try:
                await asyncio.to_thread(self._write, w)
            except Exception:
                log.exception("usage.write_failed", uniqueid=w.event.get("Uniqueid"))

    def _write(self, w: _Write) -> None:
        event, at, member = w.event, w.at, w.member
        if isinstance(event, ConfbridgeJoin):
            number = names.parse_bridge_name(event.conference)
            assert number is not None
            session = event.get("BridgeUniqueid") or None
            self._usage.record_join(
                event.uniqueid,
                number,
                member.caller_number if member and member.outbound else event.caller_number,
                event.admin,
                w.name,
                at,
                session,
                member.access_number if member else "",
                outbound=bool(member and member.outbound),
            )
        elif isinstance(event, ConfbridgeLeave):
            self._usage.record_leave(event.uniqueid, w.reason, at)

    async def drained(self) -> None:
        """Wait until every event so far is written (tests, shutdown)."""
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker

    async def reconcile(self) -> None:
        await self.drained()
        live = [
            LiveLeg(
                uid, number, self._live.callers.get(uid, ""), self._live.channels.get(uid, ("", False, 0))[1]
            )
            for bridge, members in self._live.members.items()
            if (number := names.parse_bridge_name(bridge)) is not None
            for uid in members
        ]
        closed, opened = await asyncio.to_thread(self._usage.reconcile, live)
        log.info("usage.reconciled", closed=closed, opened=opened)
