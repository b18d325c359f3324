"""Sounds played INTO a conference, so every member hears them.

ConfBridge has no "play to conference" action: an announcer Local channel joins with the
quiet admin profile (``;2`` half, context dialconf-announcer) while its ``;1`` half plays
the sound and hangs up (context dialconf-play). Used for "<name> has joined/left", the end
of a conference by its moderator, and (lifecycle) the warning tone.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeLeave
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Member
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


class Announcer:
    def __init__(self, ami: AmiClient, metrics: Metrics) -> None:
        self._ami = ami
        self._metrics = metrics
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}

    async def play(self, bridge: str, sounds: list[str], language: str, kind: str) -> None:
        """Start playing ``sounds`` (in order) into ``bridge``; returns once Asterisk queued it."""
        await self._ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/s@{names.CONTEXT_ANNOUNCER}",
                "Context": names.CONTEXT_PLAY,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "Variable": [
                    f"{names.VAR_BRIDGE}={bridge}",
                    f"{names.VAR_SOUND}={'&'.join(sounds)}",
                    f"{names.VAR_LANGUAGE}={language}",
                ],
            }
        )
        self._metrics.announcements.labels(kind=kind).inc()
        log.info("announce.play", bridge=bridge, kind=kind)

    async def play_and_wait(
        self, bridge: str, sounds: list[str], language: str, kind: str, timeout: float
    ) -> None:
        """Play and wait until the announcer has left the conference (or ``timeout``)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(bridge, []).append(done)
        try:
            await self.play(bridge, sounds, language, kind)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), timeout)
        finally:
            waiting = self._waiting.get(bridge, [])
            if done in waiting:
                waiting.remove(done)

    async def kick_all(self, bridge: str) -> None:
        """End a conference: every member leaves (their dialplan says goodbye and hangs up)."""
        await self._ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, ConfbridgeLeave) and names.is_announcer_channel(event.channel):
            for fut in self._waiting.pop(event.conference, []):
                if not fut.done():
                    fut.set_result(None)


class NameAnnouncements:
    """ "<recorded name> has joined / has left", in the language of the one who came or went."""

    def __init__(self, announcer: Announcer, live: LiveConferences, enabled: bool = True) -> None:
        self._announcer = announcer
        self._live = live
        if enabled:
            live.on_joined(lambda m: self._announce(m, "has_joined"))
            live.on_left(lambda m: self._announce(m, "has_left"))

    async def _announce(self, member: Member, phrase: str) -> None:
        if member.name_file is None:
            return
        conference = self._live.conference(member.bridge)
        if conference is None or not set(conference.members) - {member.uniqueid}:
            return  # nobody to tell
        sounds = [str(member.name_file), f"dialconf/{phrase}"]
        try:
            await self._announcer.play(member.bridge, sounds, member.language or conference.language, phrase)
        except AmiError:
            log.warning("announce.failed", conference=member.bridge, kind=phrase)
