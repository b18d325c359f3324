"""Sounds played INTO a conference: every member hears them, each in their own language.

ConfBridge has no "play to conference" action: an announcer Local channel joins with the
quiet admin profile (``;2`` half, context dialconf-announcer) while its ``;1`` half plays
the sound and hangs up (context dialconf-play). When the members do not all speak one
language, each language's members hear their own variant instead: a whisper Local channel
(``;2`` half in dialconf-whisper) runs Broadcast, which mixes what its ``;1`` half plays into
what the listed channels hear, while they stay in the conference (the others hear nothing
of it). Used for "<name> has joined/left", recording, lecture mode, an extension, the end of
a conference; the warning tone (words in no language) goes to the bridge as it is. ``tell``
whispers to one member alone (the mobile cap's warning).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass

import structlog

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeLeave
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import DEFAULT_LANGUAGE, Conference, Member
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

# An AMI header line holds at most 1024 bytes (manager.c): the targets of one whisper stay
# well inside it, and a larger language group gets several whispers.
MAX_TARGETS_CHARS = 800


def language_groups(conference: Conference, away: Collection[str] = ()) -> dict[str, list[str]]:
    """The listening members' channels by the language each hears (theirs, else the
    conference's), leaving out the unique ids in ``away`` and, as the bridge itself does, those
    waiting for the moderator (on hold music); languages in the order their first member joined."""
    groups: dict[str, list[str]] = {}
    fallback = conference.language
    for m in conference.in_order():
        if m.uniqueid not in away and not conference.waiting(m):
            groups.setdefault(m.language or fallback, []).append(m.channel)
    return groups


def batches(channels: list[str], max_chars: int = MAX_TARGETS_CHARS) -> Iterator[list[str]]:
    """``channels`` cut into runs whose '&'-joined length stays within ``max_chars``."""
    batch: list[str] = []
    size = 0
    for channel in channels:
        if batch and size + 1 + len(channel) > max_chars:
            yield batch
            batch, size = [], 0
        size += len(channel) + (1 if batch else 0)
        batch.append(channel)
    if batch:
        yield batch


@dataclass
class _Waiter:
    left: int  # plays not yet finished
    done: asyncio.Future[None]


class Announcer:
    def __init__(self, ami: AmiClient, metrics: Metrics, live: LiveConferences) -> None:
        self._ami = ami
        self._metrics = metrics
        self._live = live
        self._waiting: dict[str, list[_Waiter]] = {}

    async def play(self, bridge: str, sounds: list[str], language: str, kind: str) -> None:
        """Start playing ``sounds`` (in order) into ``bridge``; returns once Asterisk queued it."""
        await self._originate(names.CONTEXT_ANNOUNCER, bridge, sounds, language, [])
        self._metrics.announcements.labels(kind=kind).inc()
        log.info("announce.play", bridge=bridge, kind=kind)

    async def announce(self, bridge: str, sounds: list[str], kind: str, away: Collection[str] = ()) -> int:
        """Every member of ``bridge`` hears ``sounds`` in their own language; returns how many
        plays were started. ``away``: unique ids of members out of the mix now (running a
        keypad action, which says it to them itself), who are not whispered to."""
        conference = self._live.conference(bridge)
        if conference is None:
            await self.play(bridge, sounds, DEFAULT_LANGUAGE, kind)
            return 1
        spoken = list(language_groups(conference))
        if len(spoken) <= 1:
            # one language: into the bridge itself, as ever (its recording holds it too)
            await self.play(bridge, sounds, spoken[0] if spoken else conference.language, kind)
            return 1
        groups = language_groups(conference, away)
        plays = 0
        for language, channels in groups.items():
            for targets in batches(channels):
                await self._originate(names.CONTEXT_WHISPER, bridge, sounds, language, targets)
                plays += 1
        self._metrics.announcements.labels(kind=kind).inc()
        log.info("announce.whisper", bridge=bridge, kind=kind, languages=len(groups), plays=plays)
        return plays

    async def tell(self, member: Member, sounds: list[str], kind: str, language: str = "") -> None:
        """Only ``member`` hears ``sounds``, in their language, and stays in the conference."""
        said = member.language or language or DEFAULT_LANGUAGE
        await self._originate(names.CONTEXT_WHISPER, member.bridge, sounds, said, [member.channel])
        self._metrics.announcements.labels(kind=kind).inc()
        log.info("announce.tell", bridge=member.bridge, kind=kind)

    async def announce_and_wait(
        self, bridge: str, sounds: list[str], kind: str, timeout: float, away: Collection[str] = ()
    ) -> None:
        """``announce`` and wait until every play has ended (or ``timeout``)."""
        await self._waited(bridge, timeout, lambda: self.announce(bridge, sounds, kind, away))

    async def _waited(self, bridge: str, timeout: float, start: Callable[[], Awaitable[int]]) -> None:
        waiter = _Waiter(0, asyncio.get_running_loop().create_future())
        self._waiting.setdefault(bridge, []).append(waiter)  # before the start: ends come fast
        try:
            waiter.left += await start()
            if waiter.left <= 0 and not waiter.done.done():
                waiter.done.set_result(None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter.done), timeout)
        finally:
            waiting = self._waiting.get(bridge, [])
            if waiter in waiting:
                waiting.remove(waiter)

    async def _originate(
        self, context: str, bridge: str, sounds: list[str], language: str, targets: list[str]
    ) -> None:
        variables = [
            f"{names.VAR_BRIDGE}={bridge}",
            f"{names.VAR_SOUND}={'&'.join(sounds)}",
            f"{names.VAR_LANGUAGE}={language}",
        ]
        if targets:
            variables.append(f"{names.VAR_TARGETS}={'&'.join(targets)}")
        await self._ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/s@{context}",
                "Context": names.CONTEXT_PLAY,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "Variable": variables,
            }
        )

    async def kick_all(self, bridge: str) -> None:
        """End a conference: every member leaves (their dialplan says goodbye and hangs up)."""
        await self._ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, ConfbridgeLeave) and names.is_announcer_channel(event.channel):
            self._finished(event.conference)
        elif event.get("UserEvent") == names.USER_EVENT_PLAYED:
            self._finished(event.get("Bridge"))

    def _finished(self, bridge: str) -> None:
        """One play into ``bridge`` ended: each waiter of that bridge has one fewer to wait for."""
        for waiter in self._waiting.get(bridge, []):
            waiter.left -= 1
            if waiter.left <= 0 and not waiter.done.done():
                waiter.done.set_result(None)


class NameAnnouncements:
    """ "<recorded name> has joined / has left", to each member in their own language."""

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
            await self._announcer.announce(member.bridge, sounds, phrase)
        except AmiError:
            log.warning("announce.failed", conference=member.bridge, kind=phrase)
