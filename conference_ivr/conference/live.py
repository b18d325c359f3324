"""Which conferences run and who is in them, kept from AMI events and rebuilt on resync."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import (
    AmiEvent,
    ConfbridgeEnd,
    ConfbridgeEvent,
    ConfbridgeJoin,
    ConfbridgeLeave,
    Hangup,
)
from conference_ivr.errors import AmiError, NoSuchConference
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

_SEAT_HOLD_S = 30.0  # a seat held for a caller who never arrives is freed after this


class LiveConferences:
    def __init__(self, ami: AmiClient, metrics: Metrics) -> None:
        self._ami = ami
        self._metrics = metrics
        self.members: dict[str, set[str]] = {}  # ConfBridge name -> member channel unique ids
        self.channels: dict[str, tuple[str, bool, int]] = {}  # unique id -> (channel, admin, join order)
        self.callers: dict[str, str] = {}  # unique id -> caller number
        self._rebuilt: list[Callable[[], Awaitable[None]]] = []
        self._joins = 0
        self._answered: dict[str, float] = {}  # unique id -> monotonic time the IVR answered
        self._pending: list[ConfbridgeEvent] | None = None  # events seen while a resync runs
        self._pending_seats: dict[str, dict[str, float]] = {}  # bridge -> {uniqueid: held since}

    def expect_join(self, uniqueid: str, answered: float) -> None:
        self._answered[uniqueid] = answered

    def take_seat(self, bridge: str, uniqueid: str, limit: int, parties: int) -> bool:
        """Hold a seat for a caller on the way into ``bridge``, if one is free.

        Seats are members (announcers excluded) plus callers admitted but not joined yet;
        the check-and-hold runs on the event loop, so two callers never take the last seat.
        ``parties`` (ConfBridge's own count) is the floor while AMI is down.
        """
        now = time.monotonic()
        members = self.members.get(bridge, set())
        pending = self._pending_seats.setdefault(bridge, {})
        for uid, held_at in list(pending.items()):
            if uid in members or now - held_at > _SEAT_HOLD_S:
                del pending[uid]
        occupied = len(members) + len(pending)
        if not self._ami.ready:
            occupied = max(occupied, parties)
        if occupied >= limit:
            return False
        pending[uniqueid] = now
        return True

    def release_seat(self, uniqueid: str) -> None:
        for pending in self._pending_seats.values():
            pending.pop(uniqueid, None)

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, Hangup):
            self._answered.pop(event.uniqueid, None)
            self.release_seat(event.uniqueid)
            return
        if not isinstance(event, ConfbridgeJoin | ConfbridgeLeave | ConfbridgeEnd):
            return
        if isinstance(event, ConfbridgeJoin) and not names.is_announcer_channel(event.channel):
            answered = self._answered.pop(event.uniqueid, None)
            if answered is not None:
                self._metrics.answer_to_join_seconds.observe(time.monotonic() - answered)
        _apply(self.members, event)
        self._track(event)
        if self._pending is not None:
            self._pending.append(event)  # replayed onto the rebuilt state when resync ends
        self._publish()

    async def resync(self) -> None:
        """Rebuild from ConfbridgeListRooms/ConfbridgeList (after a restart or reconnect)."""
        rebuilt: dict[str, set[str]] = {}
        self._pending = []
        try:
            await self._list_into(rebuilt)
            for event in self._pending:
                _apply(rebuilt, event)
        finally:
            self._pending = None
        self.members = rebuilt
        self._publish()
        log.info("live.resynced", conferences=len(rebuilt), members=sum(map(len, rebuilt.values())))
        for listener in self._rebuilt:
            await listener()

    def on_rebuilt(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Called after every resync, with ``members`` true to Asterisk again."""
        self._rebuilt.append(listener)

    async def _list_into(self, rebuilt: dict[str, set[str]]) -> None:
        try:
            rooms = await self._ami.action({"Action": "ConfbridgeListRooms"})
        except NoSuchConference:
            rooms = []
        for room in rooms:
            if room.get("Event") != "ConfbridgeListRooms":
                continue
            conf = room.get("Conference", "")
            try:
                listing = await self._ami.action({"Action": "ConfbridgeList", "Conference": conf})
            except AmiError:
                continue  # ended meanwhile
            members = [
                m
                for m in listing
                if m.get("Event") == "ConfbridgeList" and not names.is_announcer_channel(m.get("Channel", ""))
            ]
            rebuilt[conf] = {m.get("Uniqueid", "") for m in members}
            for m in members:  # listed in join order
                self.callers[m.get("Uniqueid", "")] = m.get("CallerIDNum", "")
                self._joins += 1
                self.channels[m.get("Uniqueid", "")] = (
                    m.get("Channel", ""),
                    m.get("Admin") == "Yes",
                    self._joins,
                )

    def _track(self, event: ConfbridgeEvent) -> None:
        if isinstance(event, ConfbridgeJoin) and not names.is_announcer_channel(event.channel):
            self._joins += 1
            self.channels[event.uniqueid] = (event.channel, event.admin, self._joins)
            self.callers[event.uniqueid] = event.caller_number
        elif isinstance(event, ConfbridgeLeave):
            self.channels.pop(event.uniqueid, None)
            self.callers.pop(event.uniqueid, None)

    def last_joined_participant(self, bridge: str) -> tuple[str, str] | None:
        """(unique id, channel) of the participant (not a moderator) who joined ``bridge`` last."""
        found = [(u, self.channels[u]) for u in self.members.get(bridge, ()) if u in self.channels]
        participants = [(u, c) for u, c in found if not c[1]]
        if not participants:
            return None
        uid, (channel, _admin, _order) = max(participants, key=lambda p: p[1][2])
        return uid, channel

    def _publish(self) -> None:
        self._metrics.conferences_live.set(len([c for c in self.members.values() if c]))
        self._metrics.members_live.set(sum(len(c) for c in self.members.values()))


def _apply(members: dict[str, set[str]], event: ConfbridgeEvent) -> None:
    if isinstance(event, ConfbridgeJoin):
        if not names.is_announcer_channel(event.channel):
            members.setdefault(event.conference, set()).add(event.uniqueid)
    elif isinstance(event, ConfbridgeLeave):
        members.get(event.conference, set()).discard(event.uniqueid)
    elif isinstance(event, ConfbridgeEnd):
        members.pop(event.conference, None)
