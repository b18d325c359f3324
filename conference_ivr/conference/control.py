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
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.usage import EndReason
from booking.web.ports import NotInConference, NotRunning, TooManyWatchers
from conference_ivr.ami import events as ev
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.roster import Roster
from conference_ivr.errors import AmiError, NoSuchChannel, NoSuchConference
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


@dataclass
class Participant:
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


@dataclass
class _Room:
    locked: bool = False
    all_muted: bool = False  # the keypad's mute-all: ConfBridge mutes every non-admin


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
        roster: Roster,
        announcer: Announcer,
        clock: Clock,
        note_end: Callable[[str, EndReason], None] = lambda _key, _reason: None,
        refresh_min_s: float = 2.0,
        max_watches: int = 200,
        max_watches_per_session: int = 4,
    ) -> None:
        self._ami = ami
        self._roster = roster
        self._announcer = announcer
        self._clock = clock
        self._note_end = note_end  # tells the usage records why a leg is about to end
        self._refresh_min_s = refresh_min_s
        self._max_watches = max_watches
        self._max_per_session = max_watches_per_session
        self._per_session: dict[str, int] = {}  # session -> its open watches
        self._people: dict[str, Participant] = {}  # unique id -> member (announcers left out)
        self._rooms: dict[str, _Room] = {}  # bridge -> flags
        self._watches: dict[str, set[Watch]] = {}
        self._refreshed: dict[str, float] = {}  # bridge -> loop time of the last re-read
        self._touching: list[set[str]] = []  # per re-read under way: members seen in events meanwhile
        self._joins = 0

    # --- what the page shows -------------------------------------------------------------

    def running(self, bridge: str) -> bool:
        return bridge in self._rooms

    def room(self, bridge: str) -> tuple[bool, bool]:
        """(locked, all muted) of a running conference."""
        room = self._rooms.get(bridge, _Room())
        return room.locked, room.all_muted

    def participants(self, bridge: str) -> list[Participant]:
        """In join order; muted as heard (the keypad's mute-all mutes every non-moderator)."""
        all_muted = self._rooms.get(bridge, _Room()).all_muted
        return [
            replace(
                p, muted=p.muted or (all_muted and not p.moderator), name_recorded=self._named(p.uniqueid)
            )
            for p in sorted(self._people.values(), key=lambda p: p.order)
            if p.bridge == bridge
        ]

    def _named(self, uniqueid: str) -> bool:
        member = self._roster.get(uniqueid)
        return member is not None and member.name_file is not None

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

    async def on_event(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.ConfbridgeEnd):
            self._forget(event.conference)
        elif isinstance(
            event, ev.ConfbridgeJoin | ev.ConfbridgeLeave | ev.ConfbridgeMute | ev.ConfbridgeUnmute
        ):
            if names.is_announcer_channel(event.channel):
                return
            for touched in self._touching:
                touched.add(event.uniqueid)
            self._rooms.setdefault(event.conference, _Room())
            if isinstance(event, ev.ConfbridgeJoin):
                self._joins += 1
                e, now = event, self._clock.now()
                self._people[e.uniqueid] = Participant(
                    e.uniqueid, e.conference, e.channel, e.caller_number, e.admin, now, self._joins, e.muted
                )
            elif isinstance(event, ev.ConfbridgeLeave):
                self._people.pop(event.uniqueid, None)
            elif (person := self._people.get(event.uniqueid)) is not None:
                person.muted = isinstance(event, ev.ConfbridgeMute)
        elif isinstance(event, ev.ConfbridgeTalking):
            if (person := self._people.get(event.uniqueid)) is None:
                return
            person.talking = event.talking
        else:
            return
        self.changed(event.conference)

    def _forget(self, bridge: str) -> None:
        self._rooms.pop(bridge, None)
        for uid in [u for u, p in self._people.items() if p.bridge == bridge]:
            del self._people[uid]

    async def refresh(self, bridge: str, force: bool = False) -> None:
        """Re-read one room's flags and members from Asterisk (at most every ``refresh_min_s``)."""
        loop = asyncio.get_running_loop()
        if not force and loop.time() - self._refreshed.get(bridge, -1e9) < self._refresh_min_s:
            return
        self._refreshed[bridge] = loop.time()
        await self._reread([bridge])

    async def resync(self) -> None:
        """After a (re)connect: every conference as Asterisk has it (some ran before we did)."""
        try:
            await self._reread([*self._rooms, *self._watches], every=True)
        except AmiError:
            log.warning("live_control.resync_failed")

    async def _reread(self, bridges: list[str], every: bool = False) -> None:
        """Members and flags of ``bridges`` (``every``: and of each room of ours Asterisk lists);
        a member whose events arrive meanwhile keeps what the events said."""
        touched: set[str] = set()
        self._touching.append(touched)
        try:
            rooms = {
                r.conference: r
                for r in await self._list({"Action": "ConfbridgeListRooms"})
                if isinstance(r, ev.ConfbridgeListRoom) and names.parse_bridge_name(r.conference) is not None
            }
            for bridge in set(bridges) | (set(rooms) if every else set()):
                room = rooms.get(bridge)
                items = await self._list({"Action": "ConfbridgeList", "Conference": bridge}) if room else []
                before = (self._rooms.get(bridge), self.participants(bridge))
                if room is None:
                    self._forget(bridge)
                else:
                    self._rooms[bridge] = _Room(room.locked, room.muted)
                    self._apply_list(
                        bridge, [i for i in items if isinstance(i, ev.ConfbridgeListItem)], touched
                    )
                if (self._rooms.get(bridge), self.participants(bridge)) != before:
                    self.changed(bridge)
        finally:
            self._touching.remove(touched)

    def _apply_list(self, bridge: str, items: list[ev.ConfbridgeListItem], touched: set[str]) -> None:
        now = self._clock.now()
        listed = {i.uniqueid: i for i in items if not names.is_announcer_channel(i.channel)}
        for uid in [u for u, p in self._people.items() if p.bridge == bridge]:
            if uid not in listed and uid not in touched:
                del self._people[uid]
        for uid, i in listed.items():
            person = self._people.get(uid)
            if uid in touched:
                continue
            if person is None:
                self._joins += 1
                # joined before this controller saw it: the channel's answer time is the best known
                since = now - timedelta(seconds=i.answered_s)
                self._people[uid] = Participant(
                    uid, bridge, i.channel, i.caller_number, i.admin, since, self._joins
                )
                person = self._people[uid]
            person.muted, person.talking = i.muted, i.talking

    async def _list(self, action: dict[str, str]) -> list[ev.AmiEvent]:
        try:
            return [ev.parse_event(m) for m in await self._ami.action(action)]
        except NoSuchConference:
            return []

    # --- what the page does ----------------------------------------------------------------

    def _member(self, bridge: str, uniqueid: str) -> Participant:
        person = self._people.get(uniqueid)
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
        self._rooms.setdefault(bridge, _Room()).locked = locked
        self.changed(bridge)

    async def end(self, bridge: str) -> None:
        """Like the keypad's 9: everyone hears why, then everyone is out."""
        if not self.running(bridge):
            raise NotRunning(f"{bridge} is not running")
        self._note_end(bridge, EndReason.ENDED_BY_MODERATOR)
        with contextlib.suppress(AmiError):
            await self._announcer.play_and_wait(
                bridge, ["dialconf/ended_by_moderator"], self._language(bridge), "ended_by_moderator", 15
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

    def _language(self, bridge: str) -> str:
        """The language of the first member we know, moderators first (as the lifecycle does)."""
        members = [self._roster.get(p.uniqueid) for p in self.participants(bridge)]
        known = sorted((m for m in members if m is not None), key=lambda m: not m.moderator)
        return known[0].language if known else "en"
