"""The FastAGI route ``rejoin``: a relayed caller's leg to the hosting node ended (issue 21).

The dialplan runs it whenever the Dial to the hosting node returns. Most often that node let
the caller go (they left with a key, were removed, or the conference ended: its goodbye was
said there) and the call ends here quietly. But when the hosting node died (this node's
watcher hung the leg up, cluster/hosting.py), or the conference is now held by another node,
the caller is told and placed again: on this node, which then claims the conference, or on
whichever node holds it now, at most ``rejoin_tries`` times.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import structlog

from booking.domain.model import Reservation
from conference_ivr.agi.session import AgiSession
from conference_ivr.cluster.placer import ClusterPlacer
from conference_ivr.cluster.ticket import RelayTicket, TicketRefused, unsealed
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import CallerGaveUp, JoinFailure
from conference_ivr.ivr.catalogue import LANGUAGES
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.outcome import admitted
from conference_ivr.ivr.relay import Relay
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

# (reservation id, the node the caller was relayed to) -> is the caller to be placed again?
# (that node is dead, or another node holds the conference now)
Moved = Callable[[int, str], Awaitable[bool]]
Current = Callable[[str], Awaitable[Reservation | None]]


class Rejoin:
    def __init__(
        self,
        journey: DialInJourney,
        placer: ClusterPlacer,
        moved: Moved,
        current: Current,
        key: bytes,
        metrics: Metrics,
        tz: ZoneInfo,
        tries: int,
    ) -> None:
        self._journey = journey
        self._placer = placer
        self._moved = moved
        self._current = current
        self._key = key
        self._metrics = metrics
        self._tz = tz
        self._tries = tries

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        ticket = await self._ticket(agi)
        if ticket is None:
            await agi.hangup()
            return
        host = names.parse_relay_dial(await agi.get_variable(names.VAR_RELAY) or "")
        if host is None or not await self._moved(ticket.reservation_id, host):
            log.info("cluster.relay_ended", node=host)
            await agi.hangup()  # let go there (its goodbye was said there)
            return
        speaker = Speaker(agi, ticket.language if ticket.language in LANGUAGES else "en", self._tz)
        await speaker.set_language(speaker.language)
        if ticket.rejoins >= self._tries:
            await speaker.say("unavailable", "goodbye")
            await agi.hangup()
            return
        self._metrics.rejoins.inc()
        log.warning("cluster.rejoin", lost=host, reservation=ticket.reservation_id)
        await speaker.say("moved")
        member = await admitted(speaker, self._metrics, "rejoin", self._way_in(speaker, ticket))
        if isinstance(member, Relay):
            await self._journey.send_on(speaker, member)
        elif member is not None:
            await self._journey.enter(speaker, member, answered)
            await self._placer.joined(member.uniqueid)

    async def _ticket(self, agi: AgiSession) -> RelayTicket | None:
        """The ticket this node signed for the caller (its own channel variable, still checked)."""
        text = await agi.get_variable(names.VAR_TICKET) or ""
        try:  # long expired after a long call: only its signature counts here
            ticket = unsealed(text, self._key)
        except TicketRefused as refused:
            log.warning("cluster.rejoin_without_ticket", reason=str(refused))
            return None
        return ticket

    async def _way_in(self, speaker: Speaker, ticket: RelayTicket) -> Arrival | Relay:
        reservation = await self._current(ticket.conference_number)
        if reservation is None or reservation.id != ticket.reservation_id:
            await speaker.say("over")
            raise CallerGaveUp(JoinFailure.OVER)
        member = Arrival(
            uniqueid=speaker.agi.headers.uniqueid,
            conference_number=ticket.conference_number,
            bridge=names.bridge_name(ticket.conference_number),
            moderator=ticket.moderator,
            language=speaker.language,
            caller_number=ticket.caller_number,
            name_file=None,
            participant_limit=reservation.participant_limit,
            access_number=ticket.access_number,
            wait_for_moderator=reservation.wait_for_moderator,
            end_with_moderator=reservation.end_with_moderator,
        )
        relay = await self._placer(member, ticket.reservation_id, ticket.rejoins + 1)
        if relay is not None:
            return relay
        if not member.moderator:
            await self._journey.check_room(speaker, member.bridge, reservation.participant_limit)
        await self._journey.check_system(speaker, reservation)
        name = await self._journey.name_of(speaker, ticket.reservation_id, ticket.caller_number)
        return dataclasses.replace(member, name_file=name)
