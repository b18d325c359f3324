"""The live conferences, the only place the controller keeps them (D3): fed by typed AMI
events, rebuilt in one resync from Asterisk (ConfbridgeListRooms/ConfbridgeList) and the store
(the open usage legs: join times, languages, names, the mobile cap's warning).

Everyone else reads it (``conference``, ``member``) and listens: ``on_joined``/``on_left`` get
the member as it was, ``on_changed`` the bridge whose members or flags changed, ``on_rebuilt``
runs after each resync.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import structlog

from booking.domain.clock import Clock, SystemClock
from booking.domain.usage import Leg
from conference_ivr.ami import events as ev
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.members import Arrival, Conference, Member
from conference_ivr.errors import AmiError, NoSuchConference
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

MemberListener = Callable[[Member], Awaitable[None] | None]
StoredLegs = Callable[[], Awaitable[Mapping[str, Leg]]]  # open usage legs by unique id


async def _no_legs() -> Mapping[str, Leg]:
    return {}


class LiveConferences:
    def __init__(
        self,
        ami: AmiClient,
        metrics: Metrics,
        clock: Clock | None = None,
        stored: StoredLegs = _no_legs,
        seat_hold_s: float = 30.0,
    ) -> None:
        self._ami = ami
        self._metrics = metrics
        self._clock = clock or SystemClock()
        self._stored = stored
        self._seat_hold_s = seat_hold_s  # a seat held for a caller who never arrives is freed
        self._conferences: dict[str, Conference] = {}
        self._where: dict[str, str] = {}  # unique id -> bridge
        self._arrivals: dict[str, tuple[Arrival, float]] = {}  # unique id -> (arrival, answered)
        self._pending_seats: dict[str, dict[str, float]] = {}  # bridge -> {unique id: held since}
        self._touching: list[set[str]] = []  # per re-read under way: members events touched
        self._joins = 0
        self._joined: list[MemberListener] = []
        self._left: list[MemberListener] = []
        self._changed: list[Callable[[str], None]] = []
        self._rebuilt: list[Callable[[], Awaitable[None]]] = []

    # --- reading -------------------------------------------------------------------------

    def conference(self, bridge: str) -> Conference | None:
        return self._conferences.get(bridge)

    def conferences(self) -> list[Conference]:
        """Every conference with someone in it."""
        return [c for c in self._conferences.values() if c.members]

    def member(self, uniqueid: str) -> Member | None:
        bridge = self._where.get(uniqueid)
        return None if bridge is None else self._conferences[bridge].members.get(uniqueid)

    @property
    def members(self) -> dict[str, set[str]]:
        """Bridge -> the unique ids in it, for each conference with someone in it (a copy)."""
        return {b: set(c.members) for b, c in self._conferences.items() if c.members}

    # --- listening -------------------------------------------------------------------------

    def on_joined(self, listener: MemberListener) -> None:
        self._joined.append(listener)

    def on_left(self, listener: MemberListener) -> None:
        """Called with the member as it was, after it left the model."""
        self._left.append(listener)

    def on_changed(self, listener: Callable[[str], None]) -> None:
        self._changed.append(listener)

    def on_rebuilt(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Called after every resync, with the model true to Asterisk again."""
        self._rebuilt.append(listener)

    # --- callers on their way in -----------------------------------------------------------

    def expect(self, arrival: Arrival, answered: float) -> None:
        """The journey sends ``arrival`` into its conference (answered: monotonic time)."""
        self._arrivals[arrival.uniqueid] = (arrival, answered)

    def take_seat(self, bridge: str, uniqueid: str, limit: int, parties: int) -> bool:
        """Hold a seat for a caller on the way into ``bridge``, if one is free.

        Seats are members (announcers excluded) plus callers admitted but not joined yet;
        the check-and-hold runs on the event loop, so two callers never take the last seat.
        ``parties`` (ConfBridge's own count) is the floor while AMI is down.
        """
        now = time.monotonic()
        conference = self._conferences.get(bridge)
        members = conference.members if conference else {}
        pending = self._pending_seats.setdefault(bridge, {})
        for uid, held_at in list(pending.items()):
            if uid in members or now - held_at > self._seat_hold_s:
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

    # --- events ------------------------------------------------------------------------------

    async def on_event(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.Hangup):
            self._arrivals.pop(event.uniqueid, None)
            self.release_seat(event.uniqueid)
        elif isinstance(event, ev.ConfbridgeEnd):
            await self._ended(event.conference)
        elif isinstance(
            event, ev.ConfbridgeJoin | ev.ConfbridgeLeave | ev.ConfbridgeMute | ev.ConfbridgeUnmute
        ):
            if names.is_announcer_channel(event.channel):
                return
            for touched in self._touching:
                touched.add(event.uniqueid)
            if isinstance(event, ev.ConfbridgeJoin):
                await self._join(event)
            elif isinstance(event, ev.ConfbridgeLeave):
                await self._leave(event.conference, event.uniqueid)
            elif (m := self.member(event.uniqueid)) is not None:
                m.muted = isinstance(event, ev.ConfbridgeMute)
            self._publish(event.conference)
        elif isinstance(event, ev.ConfbridgeTalking) and (m := self.member(event.uniqueid)) is not None:
            m.talking = event.talking
            self._publish(event.conference)

    async def _join(self, e: ev.ConfbridgeJoin) -> None:
        arrival, answered = self._arrivals.pop(e.uniqueid, (None, None))
        if answered is not None:
            self._metrics.answer_to_join_seconds.observe(time.monotonic() - answered)
        self._joins += 1
        member = Member(e.uniqueid, e.conference, e.channel, e.caller_number, e.admin, self._clock.now(),
                        self._joins, muted=e.muted, session=e.get("BridgeUniqueid") or None)  # fmt: skip
        if arrival is not None:
            member.caller_number = (
                arrival.caller_number if arrival.outbound or arrival.web else e.caller_number
            )
            member.language, member.name_file = arrival.language, arrival.name_file
            member.access_number, member.outbound = arrival.access_number, arrival.outbound
            member.web, member.display_name = arrival.web, arrival.display_name
            if not e.admin:  # the journey marks only participants (journey.waiting_options)
                member.wait_marked = arrival.wait_for_moderator
                member.end_marked = arrival.end_with_moderator
        self._put(member)
        for listener in self._joined:
            await _call(listener, member)

    async def _leave(self, bridge: str, uniqueid: str) -> None:
        conference = self._conferences.get(bridge)
        member = conference.members.pop(uniqueid, None) if conference else None
        self._where.pop(uniqueid, None)
        if conference is not None and conference.floor == uniqueid:
            conference.floor = None  # the floor goes with who had it
        if member is not None:
            for listener in self._left:
                await _call(listener, member)

    async def _ended(self, bridge: str) -> None:
        conference = self._conferences.get(bridge)
        for uid in list(conference.members) if conference else []:
            await self._leave(bridge, uid)  # Leaves come first; this is the backstop
        self._conferences.pop(bridge, None)
        self._pending_seats.pop(bridge, None)
        self._publish(bridge)

    def _put(self, member: Member) -> None:
        self._conferences.setdefault(member.bridge, Conference(member.bridge)).members[member.uniqueid] = (
            member
        )
        self._where[member.uniqueid] = member.bridge

    def publish(self, bridge: str) -> None:
        """Tell the listeners that a conference's flags changed outside any event (lecture mode)."""
        self._publish(bridge)

    def _publish(self, bridge: str) -> None:
        live = self.conferences()
        self._metrics.conferences_live.set(len(live))
        self._metrics.members_live.set(sum(len(c.members) for c in live))
        for listener in self._changed:
            listener(bridge)

    # --- rebuilding from Asterisk and the store --------------------------------------------

    async def resync(self) -> None:
        """After a (re)connect: every conference as Asterisk has it (some ran before we did),
        each member as the store remembers it; then the ``on_rebuilt`` listeners."""
        try:
            await self._reread([*self._conferences], every=True)
        except AmiError:
            log.warning("live.resync_failed")
            return
        live = self.conferences()
        log.info("live.resynced", conferences=len(live), members=sum(len(c.members) for c in live))
        for listener in self._rebuilt:
            await listener()

    async def refresh(self, bridge: str) -> None:
        """Re-read one conference's flags and members (ConfBridge sends no event for a lock)."""
        await self._reread([bridge])

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
            stored = await self._stored() if every else {}
            listed = [*rooms] if every else []  # in Asterisk's order, then any we knew of
            for bridge in dict.fromkeys([*listed, *bridges]):
                room = rooms.get(bridge)
                items = await self._list({"Action": "ConfbridgeList", "Conference": bridge}) if room else []
                found = [i for i in items if isinstance(i, ev.ConfbridgeListItem)]
                self._apply_list(bridge, room, found, touched, stored)
                self._publish(bridge)
        finally:
            self._touching.remove(touched)

    def _apply_list(
        self,
        bridge: str,
        room: ev.ConfbridgeListRoom | None,
        items: list[ev.ConfbridgeListItem],
        touched: set[str],
        stored: Mapping[str, Leg],
    ) -> None:
        listed = {i.uniqueid: i for i in items if not names.is_announcer_channel(i.channel)}
        conference = self._conferences.get(bridge)
        gone = [u for u in (conference.members if conference else {}) if u not in listed and u not in touched]
        for uid in gone:  # left while we did not listen: the usage reconcile closes their legs
            self._where.pop(uid, None)
            if conference is not None:
                del conference.members[uid]
                if conference.floor == uid:
                    conference.floor = None
        if room is None:
            if conference is not None and not conference.members:
                del self._conferences[bridge]
            return
        conference = self._conferences.setdefault(bridge, Conference(bridge))
        conference.locked, conference.all_muted = room.locked, room.muted
        now = self._clock.now()
        for uid, i in listed.items():  # listed in join order
            if uid in touched:
                continue
            member = conference.members.get(uid)
            if member is None:
                self._joins += 1
                member = _rebuilt(bridge, i, stored.get(uid), now, self._joins)
                self._put(member)
            member.muted, member.talking = i.muted, i.talking
            member.wait_marked, member.end_marked = i.wait_marked, i.end_marked

    async def _list(self, action: dict[str, str]) -> list[ev.AmiEvent]:
        try:
            return [ev.parse_event(m) for m in await self._ami.action(action)]
        except NoSuchConference:
            return []


def _rebuilt(bridge: str, i: ev.ConfbridgeListItem, leg: Leg | None, now: datetime, order: int) -> Member:
    """A member found in Asterisk: as its usage leg says, else joined when its channel answered."""
    if leg is None:
        since = now - timedelta(seconds=i.answered_s)
        return Member(i.uniqueid, bridge, i.channel, i.caller_number, i.admin, since, order)
    return Member(
        i.uniqueid, bridge, i.channel, leg.caller_number or i.caller_number, i.admin, leg.joined_at, order,
        language=leg.language, name_file=PurePosixPath(leg.name_file) if leg.name_file else None,
        access_number=leg.access_number, outbound=leg.outbound, cap_warned=leg.cap_warned_at is not None,
        session=leg.session_id, web=leg.web, display_name=leg.display_name,
    )  # fmt: skip


async def _call(listener: MemberListener, member: Member) -> None:
    """One listener failing costs neither the model nor the other listeners their event."""
    try:
        result = listener(member)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("live.listener_failed", uniqueid=member.uniqueid)
