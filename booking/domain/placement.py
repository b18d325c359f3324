"""Which media node mixes a conference (issue 21: several Asterisk nodes, one store).

All members of a conference must be mixed on one node, but a caller's conference is known only
after the PIN, on whichever node answered. A conference is therefore held by a *lease*: the
node that hosts it renews it while the conference lives, and it expires on silence. The first
caller's node claims a conference nobody holds (Kazoo's lock named after the conference), so
most members land where they are answered; a node over its own seats hands the claim to the
least-loaded live node, counting the placements still in flight (members placed there who have
not joined yet: stale load figures otherwise send a whole burst to one node, Jitsi PR #1298).

Every change of holder raises the lease's *epoch*: a node back from a partition renews with the
epoch it had, finds it superseded and gives the conference up instead of keeping it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class NodeLoad:
    """A media node as the store last heard of it."""

    name: str
    seats: int  # members it mixes at most
    members: int  # members in its conferences at its last heartbeat
    in_flight: int  # members placed on it who have not joined yet
    alive: bool  # its heartbeat is recent

    @property
    def load(self) -> int:
        return self.members + self.in_flight

    @property
    def has_room(self) -> bool:
        return self.load < self.seats

    @property
    def fill(self) -> float:
        return self.load / self.seats if self.seats > 0 else float("inf")


@dataclass(frozen=True)
class Lease:
    """A node's hold on one conference (a reservation's room)."""

    reservation_id: int
    node: str
    epoch: int
    expires_at: datetime

    def live_at(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(frozen=True)
class Placement:
    """Where a caller is sent: ``node`` hosts the conference under lease ``epoch``."""

    reservation_id: int
    node: str
    epoch: int
    claimed: bool  # this placement took the lease (a new holder, a new epoch)
    # the store's row of this placement in flight (booking.services.placement sets it; the
    # caller's node reports the join with it, so the member stops counting as in flight)
    placement_id: int | None = None

    def relayed_from(self, here: str) -> bool:
        return self.node != here


@dataclass(frozen=True)
class NodeBeat:
    """A media node's row in the store: what its last heartbeat said."""

    name: str
    sip_address: str  # host:port another node relays a caller to
    seats: int
    members: int
    heartbeat_at: datetime

    def alive_at(self, now: datetime, dead_after: timedelta) -> bool:
        """Heard of within ``dead_after``: older, the node is taken for dead."""
        return self.heartbeat_at >= now - dead_after


@dataclass(frozen=True)
class NodeStatus(NodeLoad):
    """A node's load with where to reach it and when it was last heard of (the dashboard's and
    the relaying node's view)."""

    sip_address: str
    heartbeat_at: datetime


def statuses(
    beats: Sequence[NodeBeat], in_flight: Mapping[str, int], now: datetime, dead_after: timedelta
) -> list[NodeStatus]:
    """Each node's load as ``place`` takes it, by name."""
    return [
        NodeStatus(
            name=b.name,
            seats=b.seats,
            members=b.members,
            in_flight=in_flight.get(b.name, 0),
            alive=b.alive_at(now, dead_after),
            sip_address=b.sip_address,
            heartbeat_at=b.heartbeat_at,
        )
        for b in sorted(beats, key=lambda b: b.name)
    ]


def place(
    reservation_id: int,
    lease: Lease | None,
    here: str,
    nodes: Sequence[NodeLoad],
    now: datetime,
) -> Placement | None:
    """The node a caller answered on ``here`` joins ``reservation_id`` on; None: no live node.

    A live lease held by a live node wins whatever its load: a conference is never split. Else
    ``here`` claims it while it has room; else the live node with the lowest fill (load over
    seats, then name, so the choice is the same on every node) that has room; else, all full,
    ``here`` if alive (seat capacity is the booking ledger's rule, not placement's).
    """
    alive = {n.name: n for n in nodes if n.alive}
    if lease is not None and lease.live_at(now) and lease.node in alive:
        return Placement(reservation_id, lease.node, lease.epoch, claimed=False)
    epoch = (lease.epoch if lease is not None else 0) + 1
    local = alive.get(here)
    if local is not None and local.has_room:
        return Placement(reservation_id, here, epoch, claimed=True)
    roomy = sorted((n for n in alive.values() if n.has_room), key=lambda n: (n.fill, n.name))
    if roomy:
        return Placement(reservation_id, roomy[0].name, epoch, claimed=True)
    if local is not None:
        return Placement(reservation_id, here, epoch, claimed=True)
    return None
