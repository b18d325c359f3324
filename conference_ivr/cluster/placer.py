"""Where an admitted caller's conference is mixed (issue 21), asked once the PIN is right.

The store's placement (booking.services.placement, one transaction) answers with a node and the
lease's epoch: this node (the caller stays; the conference is now held here) or another (the
caller is bridged on to it with a signed ticket, names.relay_dial). The placement counts as in
flight on its node until the caller is in the conference (``joined``), so a burst of callers is
spread by what is already on its way, not only by what the heartbeats last said.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from booking.domain.clock import Clock
from booking.domain.placement import Placement
from conference_ivr.cluster.hosting import Hosting
from conference_ivr.cluster.ticket import RelayTicket, expiry, sign
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import DialconfError
from conference_ivr.ivr.relay import Relay
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)
# Callers placed here who never joined are forgotten in bulk past this many (their placements
# stop counting in the store after in_flight_ttl_s anyway).
_PENDING_MAX = 10_000


class NoNodeAvailable(DialconfError):
    """No media node is alive, this one included (its heartbeat is not in the store)."""


# reservation id -> where its conference is mixed, with the placement in flight's id (None: no
# live node): booking.services.placement.PlacementService.place, off the event loop
Place = Callable[[int], Awaitable[Placement | None]]
# the placement id: its caller joined (or gave up)
Arrived = Callable[[int], Awaitable[None]]


class ClusterPlacer:
    def __init__(
        self,
        place: Place,
        arrived: Arrived,
        hosting: Hosting,
        here: str,
        key: bytes,
        clock: Clock,
        ticket_ttl_s: float,
    ) -> None:
        self._place = place
        self._arrived = arrived
        self._hosting = hosting
        self._here = here
        self._key = key
        self._clock = clock
        self._ttl = ticket_ttl_s
        self._pending: dict[str, int] = {}  # a local caller's channel -> its placement in flight
        self._tasks: set[asyncio.Future[None]] = set()

    async def __call__(self, member: Arrival, reservation_id: int, rejoins: int = 0) -> Relay | None:
        p = await self._place(reservation_id)
        if p is None:
            raise NoNodeAvailable(f"no live media node for reservation {reservation_id}")
        placement_id = p.placement_id or 0
        if not p.relayed_from(self._here):
            self._hosting.hold(reservation_id, member.bridge, p.epoch)
            if len(self._pending) > _PENDING_MAX:  # callers who hung up before joining
                self._pending.clear()
            self._pending[member.uniqueid] = placement_id
            return None
        ticket = RelayTicket(
            reservation_id=reservation_id,
            conference_number=member.conference_number,
            moderator=member.moderator,
            caller_number=member.caller_number,
            access_number=member.access_number,
            language=member.language,
            epoch=p.epoch,
            placement_id=placement_id,
            from_node=self._here,
            uniqueid=member.uniqueid,
            expires_at=expiry(self._clock.now(), self._ttl),
            rejoins=rejoins,
            web=member.web,
            display_name=member.display_name,
            outbound=member.outbound,
        )
        log.info("cluster.relay", node=p.node, epoch=p.epoch, claimed=p.claimed)
        return Relay(p.node, names.relay_dial(p.node), sign(ticket, self._key))

    async def joined(self, uniqueid: str) -> None:
        """A caller placed here is in the conference: its placement is no longer in flight."""
        placement_id = self._pending.pop(uniqueid, None)
        if placement_id is not None:
            await self._arrived(placement_id)

    def note_joined(self, uniqueid: str) -> None:
        """``joined``, from code that cannot wait (the journey's join observer)."""
        if uniqueid in self._pending:
            task = asyncio.ensure_future(self.joined(uniqueid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
