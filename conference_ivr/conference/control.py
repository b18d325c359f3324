"""What a moderator's live page sees and does: who is in a conference (talking, muted, since
when), whether it is locked, and the AMI actions behind the page's buttons.

Kept from AMI events (ConfbridgeJoin/Leave/Mute/Unmute/Talking/End). ConfBridge sends none for a
lock or the keypad's mute-all: those flags come from ConfbridgeListRooms, re-read while a page
watches. A watching page holds a ``Watch``, a coalescing signal (never a queue of snapshots),
so a slow browser costs one flag however much happens. Watches are capped in total and per
signed-in session, so one user cannot take every stream the controller serves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from booking.domain.usage import EndReason
from booking.web.ports import NotInConference, NotRunning, TooManyWatchers
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Member
from conference_ivr.errors import AmiError, NoSuchChannel, NoSuchConference

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Participant:
    """One member as the page shows it."""

    uniqueid: str
    bridge: str
    channel: str
    number: str
    moderator: bool
    joined_at: datetime
    order: int  # join order
    muted: bool = False
    talking: bool = False
    name_recorded: bool = False
    waiting: bool = False  # for the moderator: hears hold music, not in the mix yet
    hand: int = 0  # place among the raised hands (1 first); 0: no hand raised
    floor: bool = False  # given the floor in lecture mode
    web: bool = False  # joined from a browser (issue 20)
    name: str = ""  # the name typed on the join page


@dataclass(eq=False)
class Watch:
    """One page following one conference: at most one pending wake-up and its reasons."""

    bridge: str
    session: str = ""  # the signed-in session that opened it (booking.web.session.Viewer.nonce)
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _reasons: set[str] = field(default_factory=set)

    def poke(self, reason: str) -> None:
        self._reasons.add(reason)
        self._event.set()

    async def next(self, timeout: float) -> frozenset[str]:
        """The reasons since the last call, or nothing after ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()
        reasons, self._reasons = frozenset(self._reasons), set()
        return reasons


class LiveControl:
    def __init__(
        self,
        ami: AmiClient,
        live: LiveConferences,
        announcer: Announcer,
        note_end: Callable[[str, EndReason], None] = lambda _key, _reason: None,
        refresh_min_s: float = 2.0,
        max_watches: int = 200,
        max_watches_per_session: int = 4,
    ) -> None:
        self._ami = ami
        self._live = live
        self._announcer = announcer
        self._note_end = note_end  # tells the usage records why a leg is about to end
        self._refresh_min_s = refresh_min_s
        self._max_watches = max_watches
        self._max_per_session = max_watches_per_session
        self._per_session: dict[str, int] = {}  # session -> its open watches
        self._watches: dict[str, set[Watch]] = {}
        self._refreshed: dict[str, float] = {}  # bridge -> loop time of the last re-read
        live.on_changed(self.changed)

    # --- what the page shows -------------------------------------------------------------

    def running(self, bridge: str) -> bool:
        return self._live.conference(bridge) is not None

    def room(self, bridge: str) -> tuple[bool, bool]:
        """(locked, all muted) of a running conference."""
        c = self._live.conference(bridge)
        return (c.locked, c.all_muted) if c is not None else (False, False)

    def lecture(self, bridge: str) -> bool:
        c = self._live.conference(bridge)
        return c is not None and c.lecture

    def participants(self, bridge: str) -> list[Participant]:
        """In join order; muted as heard (the keypad's mute-all mutes every non-moderator)."""
        c = self._live.conference(bridge)
        if c is None:
            return []
        hands = {m.uniqueid: place for place, m in enumerate(c.hands(), 1)}
        return [
            Participant(
                m.uniqueid,
                bridge,
                m.channel,
                m.caller_number,
                m.moderator,
                m.joined_at,
                m.order,
                m.muted or (c.all_muted and not m.moderator),
                m.talking,
                m.name_file is not None,
                c.waiting(m),
                hands.get(m.uniqueid, 0),
                c.floor == m.uniqueid,
                m.web,
                m.display_name,
            )
            for m in c.in_order()
        ]

    # --- following it ----------------------------------------------------------------------

    @contextlib.contextmanager
    def watch(self, bridge: str, session: str = "") -> Iterator[Watch]:
        w = self.open_watch(bridge, session)
        try:
            yield w
        finally:
            self.close_watch(w)

    def open_watch(self, bridge: str, session: str = "") -> Watch:
        """A new watch; TooManyWatchers over the total or the session's cap. Close it with
        ``close_watch`` (closing twice is harmless)."""
        if sum(map(len, self._watches.values())) >= self._max_watches:
            raise TooManyWatchers(f"more than {self._max_watches} live pages open")
        if session and self._per_session.get(session, 0) >= self._max_per_session:
            raise TooManyWatchers(f"more than {self._max_per_session} live pages open in one session", True)
        w = Watch(bridge, session)
        self._watches.setdefault(bridge, set()).add(w)
        if session:
            self._per_session[session] = self._per_session.get(session, 0) + 1
        return w

    def close_watch(self, w: Watch) -> None:
        watching = self._watches.get(w.bridge, set())
        if w not in watching:
            return
        watching.discard(w)
        if not watching:
            self._watches.pop(w.bridge, None)
        if w.session:
            left = self._per_session.get(w.session, 0) - 1
            if left > 0:
                self._per_session[w.session] = left
            else:
                self._per_session.pop(w.session, None)

    def watchers(self, bridge: str) -> int:
        return len(self._watches.get(bridge, ()))

    def changed(self, bridge: str, reason: str = "members") -> None:
        for w in self._watches.get(bridge, ()):
            w.poke(reason)

    def close(self) -> None:
        """Every page's stream ends (the controller stops)."""
        for watching in self._watches.values():
            for w in watching:
                w.poke("closed")

    async def refresh(self, bridge: str, force: bool = False) -> None:
        """Re-read one room's flags and members from Asterisk (at most every ``refresh_min_s``)."""
        loop = asyncio.get_running_loop()
        if not force and loop.time() - self._refreshed.get(bridge, -1e9) < self._refresh_min_s:
            return
        self._refreshed[bridge] = loop.time()
        await self._live.refresh(bridge)

    # --- what the page does ----------------------------------------------------------------

    def _member(self, bridge: str, uniqueid: str) -> Member:
        person = self._live.member(uniqueid)
        if person is None or person.bridge != bridge:
            raise NotInConference(f"{uniqueid} is not in {bridge}")
        return person

    async def remove(self, bridge: str, uniqueid: str) -> None:
        """One member out (they hear why); their usage leg ends as "kicked"."""
        person = self._member(bridge, uniqueid)
        self._note_end(uniqueid, EndReason.KICKED)
        await self._act("ConfbridgeKick", bridge, person.channel)
        log.info("live_control.removed", bridge=bridge)

    async def mute(self, bridge: str, uniqueid: str, muted: bool) -> None:
        person = self._member(bridge, uniqueid)
        await self._act("ConfbridgeMute" if muted else "ConfbridgeUnmute", bridge, person.channel)

    async def mute_participants(self, bridge: str, muted: bool) -> None:
        """Every non-moderator (one ConfbridgeMute/Unmute event each); who joins later is not."""
        await self._act("ConfbridgeMute" if muted else "ConfbridgeUnmute", bridge, "participants")

    async def lock(self, bridge: str, locked: bool) -> None:
        """Locked: nobody else gets in (moderators and announcers still do)."""
        await self._act("ConfbridgeLock" if locked else "ConfbridgeUnlock", bridge)
        if (c := self._live.conference(bridge)) is not None:
            c.locked = locked  # ConfBridge sends no event for a lock
        self.changed(bridge)

    async def end(self, bridge: str) -> None:
        """Like the keypad's 9: everyone hears why, then everyone is out."""
        if not self.running(bridge):
            raise NotRunning(f"{bridge} is not running")
        self._note_end(bridge, EndReason.ENDED_BY_MODERATOR)
        with contextlib.suppress(AmiError):
            await self._announcer.announce_and_wait(
                bridge, ["dialconf/ended_by_moderator"], "ended_by_moderator", 15
            )
        await self._act("ConfbridgeKick", bridge, "all")  # as Announcer.kick_all, errors told apart
        log.info("live_control.ended", bridge=bridge)

    async def _act(self, action: str, bridge: str, channel: str | None = None) -> None:
        fields = {"Action": action, "Conference": bridge}
        if channel is not None:
            fields["Channel"] = channel
        try:
            await self._ami.action(fields)
        except NoSuchConference as exc:
            raise NotRunning(f"{bridge} is not running") from exc
        except NoSuchChannel as exc:
            raise NotInConference(f"not in {bridge} any more") from exc
