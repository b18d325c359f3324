"""Which conferences run and who is in them, kept from AMI events and rebuilt on resync."""

from __future__ import annotations

import time

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
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


class LiveConferences:
    def __init__(self, ami: AmiClient, metrics: Metrics) -> None:
        self._ami = ami
        self._metrics = metrics
        self.members: dict[str, set[str]] = {}  # ConfBridge name -> member channel unique ids
        self._answered: dict[str, float] = {}  # unique id -> monotonic time the IVR answered
        self._pending: list[ConfbridgeEvent] | None = None  # events seen while a resync runs

    def expect_join(self, uniqueid: str, answered: float) -> None:
        self._answered[uniqueid] = answered

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, Hangup):
            self._answered.pop(event.uniqueid, None)
            return
        if not isinstance(event, ConfbridgeJoin | ConfbridgeLeave | ConfbridgeEnd):
            return
        if isinstance(event, ConfbridgeJoin) and not names.is_announcer_channel(event.channel):
            answered = self._answered.pop(event.uniqueid, None)
            if answered is not None:
                self._metrics.answer_to_join_seconds.observe(time.monotonic() - answered)
        _apply(self.members, event)
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

    async def _list_into(self, rebuilt: dict[str, set[str]]) -> None:
        try:
            rooms = await self._ami.action({"Action": "ConfbridgeListRooms"})
        except AmiError as exc:
            if "No active conferences" not in str(exc):
                raise
            rooms = []
        for room in rooms:
            if room.get("Event") != "ConfbridgeListRooms":
                continue
            conf = room.get("Conference", "")
            try:
                listing = await self._ami.action({"Action": "ConfbridgeList", "Conference": conf})
            except AmiError:
                continue  # ended meanwhile
            rebuilt[conf] = {
                m.get("Uniqueid", "")
                for m in listing
                if m.get("Event") == "ConfbridgeList" and not names.is_announcer_channel(m.get("Channel", ""))
            }

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
