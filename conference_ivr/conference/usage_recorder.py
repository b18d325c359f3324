"""Turn the members who join and leave into usage legs, off the event loop, and reconcile on
resync.

Writes happen in the order members came and went, by one worker: a short leg's leave can never
be written before its join. Times are taken when the event arrives, not when it is written.
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
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Member
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Write:
    member: Member
    joined: bool  # a join, else a leave
    at: datetime
    reason: EndReason  # why it ended (a leave)


class UsageRecorder:
    def __init__(self, usage: UsageService, live: LiveConferences, clock: Clock) -> None:
        self._usage = usage
        self._live = live
        self._clock = clock
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._reasons: dict[str, EndReason] = {}  # unique id or bridge name -> why it is about to end
        live.on_joined(self._joined)
        live.on_left(self._left)
        live.on_rebuilt(self.reconcile)

    def note_end(self, key: str, reason: EndReason) -> None:
        """Say why a member (unique id) or a whole conference (bridge name) is being ended,
        before kicking: the leave that follows is recorded with this reason."""
        self._reasons[key] = reason

    def _joined(self, member: Member) -> None:
        if names.parse_bridge_name(member.bridge) is None:
            return
        self._reasons.pop(member.bridge, None)  # a new session of a conference ended before
        self._put(_Write(member, True, member.joined_at, EndReason.LEFT))

    def _left(self, member: Member) -> None:
        if names.parse_bridge_name(member.bridge) is None:
            return
        if member.moderator:
            self._ends_with_moderator(member.bridge)
        noted = self._reasons.pop(member.uniqueid, None)
        reason = noted or self._reasons.get(member.bridge) or EndReason.LEFT
        self._put(_Write(member, False, self._clock.now(), reason))

    def _ends_with_moderator(self, bridge: str) -> None:
        """The last moderator has left: ConfBridge lets go of every end_marked member (their
        Leave events follow the moderator's), unless the whole conference is being ended anyway."""
        conference = self._live.conference(bridge)
        if conference is None or conference.moderators or bridge in self._reasons:
            return
        for m in conference.members.values():
            if m.end_marked:
                self._reasons.setdefault(m.uniqueid, EndReason.ENDED_WITH_MODERATOR)

    def _put(self, w: _Write) -> None:
        self._queue.put_nowait(w)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while not self._queue.empty():
            w = self._queue.get_nowait()
            try:
                await asyncio.to_thread(self._write, w)
            except Exception:
                log.exception("usage.write_failed", uniqueid=w.member.uniqueid)

    def _write(self, w: _Write) -> None:
        m = w.member
        if not w.joined:
            self._usage.record_leave(m.uniqueid, w.reason, w.at)
            return
        number = names.parse_bridge_name(m.bridge)
        assert number is not None
        self._usage.record_join(
            m.uniqueid, number, m.caller_number, m.moderator,
            str(m.name_file) if m.name_file else None, w.at, m.session, m.access_number,
            outbound=m.outbound, language=m.language, web=m.web, display_name=m.display_name,
        )  # fmt: skip

    async def drained(self) -> None:
        """Wait until every event so far is written (tests, shutdown)."""
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker

    async def reconcile(self) -> None:
        await self.drained()
        live = [
            LiveLeg(m.uniqueid, number, m.caller_number, m.moderator, m.joined_at)
            for c in self._live.conferences()
            if (number := names.parse_bridge_name(c.bridge)) is not None
            for m in c.members.values()
        ]
        closed, opened = await asyncio.to_thread(self._usage.reconcile, live)
        log.info("usage.reconciled", closed=closed, opened=opened)
