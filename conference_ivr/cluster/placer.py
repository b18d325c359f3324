"""Where an admitted caller's conference is mixed (issue 21), asked once the PIN is right.

The store's placement (booking.services.placement, one transaction) answers with a node and the
lease's epoch: this node (the caller stays; the conference is now held here) or another (the
caller is bridged on to it with a signed ticket, names.relay_dial). The placement counts as in
flight on its node until the caller is in the conference (``joined``), so a burst of callers is
spread by what is already on its way, not only by what the heartbeats last said.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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


class NoNodeAvailable(DialconfError):
    """No media node is alive, this one included (its heartbeat is not in the store)."""


@dataclass(frozen=True)
class Placed:
    placement: Placement
    placement_id: int  # the placement in flight (ended by ``arrived``)


# reservation id -> where its conference is mixed (None: no live node)
Place = Callable[[int], Awaitable[Placed | None]]
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

    async def __call__(self, member: Arrival, reservation_id: int, rejoins: int = 0) -> Relay | None:
        placed = await self._place(reservation_id)
        if placed is None:
            raise NoNodeAvailable(f"no live media node for reservation {reservation_id}")
        p = placed.placement
        if not p.relayed_from(self._here):
            self._hosting.hold(reservation_id, member.bridge, p.epoch)
            self._pending[member.uniqueid] = placed.placement_id
            return None
        ticket = RelayTicket(
            reservation_id=reservation_id,
            conference_number=member.conference_number,
            moderator=member.moderator,
            caller_number=member.caller_number,
            access_number=member.access_number,
            language=member.language,
            epoch=p.epoch,
            placement_id=placed.placement_id,
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
