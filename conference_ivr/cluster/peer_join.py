"""The FastAGI route ``peer``: a caller another node bridges on to this one (issue 21).

Only other media nodes reach ``dialconf-peer`` (pjsip.conf identifies them by address), and
even so the call is believed only with a valid relay ticket (cluster/ticket.py) in its SIP
header, used once. The ticket says who the caller is (reservation, role, caller number, access
number, language): the answering node checked the PIN. Here, where the conference is mixed,
the caller gets the phone journey's own lock, seat and live-seat checks, records a name (or
keeps the one recorded in this reservation before) and joins with the same templates; the
channel's caller number becomes the ticket's, so usage legs and the mobile cap (R10) see the
caller, not the trunk.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import structlog

from booking.domain.clock import Clock
from booking.domain.model import Reservation
from conference_ivr.agi.session import AgiSession
from conference_ivr.cluster.hosting import Hosting
from conference_ivr.cluster.ticket import RelayTicket, TicketBook, TicketRefused, verify
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import CallerGaveUp, JoinFailure
from conference_ivr.ivr.catalogue import LANGUAGES
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.outcome import admitted
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

security = structlog.get_logger("dialconf.security")

# conference number -> the reservation running in it now (None: none)
Current = Callable[[str], Awaitable[Reservation | None]]
# the placement id: its caller joined
Arrived = Callable[[int], Awaitable[None]]


async def sip_header_ticket(agi: AgiSession) -> str:
    value = await agi.get_full_variable(f"${{PJSIP_HEADER(read,{names.RELAY_HEADER})}}")
    return (value or "").strip()


class PeerJoin:
    def __init__(
        self,
        journey: DialInJourney,
        current: Current,
        arrived: Arrived,
        hosting: Hosting,
        key: bytes,
        clock: Clock,
        metrics: Metrics,
        tz: ZoneInfo,
        ticket_source: Callable[[AgiSession], Awaitable[str]] = sip_header_ticket,
    ) -> None:
        self._journey = journey
        self._current = current
        self._arrived = arrived
        self._hosting = hosting
        self._key = key
        self._clock = clock
        self._metrics = metrics
        self._tz = tz
        self._ticket = ticket_source
        self._book = TicketBook()

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        speaker = Speaker(agi, "en", self._tz)
        await agi.answer()
        placed: list[int] = []
        member = await admitted(speaker, self._metrics, "peer", self._way_in(speaker, placed))
        if member is not None:
            await self._journey.enter(speaker, member, answered)
        for placement_id in placed:  # joined, or turned away: no longer in flight either way
            await self._arrived(placement_id)

    async def _way_in(self, speaker: Speaker, placed: list[int]) -> Arrival:
        ticket = await self._checked(speaker)
        placed.append(ticket.placement_id)
        await speaker.set_language(ticket.language if ticket.language in LANGUAGES else "en")
        await speaker.agi.set_variable("CALLERID(num)", ticket.caller_number)
        await speaker.agi.set_variable(names.VAR_ACCESS, ticket.access_number)
        reservation = await self._current(ticket.conference_number)
        if reservation is None or reservation.id != ticket.reservation_id:
            await speaker.say("over")
            raise CallerGaveUp(JoinFailure.OVER)
        bridge = names.bridge_name(ticket.conference_number)
        self._hosting.hold(ticket.reservation_id, bridge, ticket.epoch)
        if not ticket.moderator:
            await self._journey.check_room(speaker, bridge, reservation.participant_limit)
        await self._journey.check_system(speaker, reservation)
        name = None
        if not ticket.web and not ticket.outbound:
            name = await self._journey.name_of(speaker, ticket.reservation_id, ticket.caller_number)
        return Arrival(
            uniqueid=speaker.agi.headers.uniqueid,
            conference_number=ticket.conference_number,
            bridge=bridge,
            moderator=ticket.moderator,
            language=speaker.language,
            caller_number=ticket.caller_number,
            name_file=name,
            participant_limit=reservation.participant_limit,
            access_number=ticket.access_number,
            wait_for_moderator=reservation.wait_for_moderator,
            end_with_moderator=reservation.end_with_moderator,
            web=ticket.web,
            display_name=ticket.display_name,
            outbound=ticket.outbound,
        )

    async def _checked(self, speaker: Speaker) -> RelayTicket:
        now = self._clock.now()
        try:
            ticket = verify(await self._ticket(speaker.agi), self._key, now)
            self._book.admit(ticket, now)
        except TicketRefused as refused:
            security.warning("security.relay_ticket_refused", reason=str(refused))
            raise CallerGaveUp(JoinFailure.RELAY_TICKET) from None
        return ticket
