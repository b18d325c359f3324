"""Which media node mixes a conference (issue 21: several Asterisk nodes, one store).

All members of a conference must be mixed on one node, but a caller's conference is known only
after the PIN, on whichever node answered. A conference is therefore held by a *lease*: the
node that hosts it renews it while the conference lives, and it expires on silence. A live
lease held by a live node wins whatever its load: a conference is never split.

A conference nobody holds is *claimed*, and the claim weighs what each node has committed, not
only who is there now. A node's **expected load** is ``max(load, booked)``: ``load`` its members
(last heartbeat) plus the placements in flight to it (members placed there who have not joined
yet: stale load figures otherwise send a whole burst to one node, Jitsi PR #1298), ``booked``
the seats booked by the conferences it holds a live lease on. Each of those conferences' members
sits within its booked seats (the participant limit is the booking's), so ``booked`` is the load
the node will carry once they have all come, and ``max(load, booked)`` is its load plus the
booked seats not yet taken, the "outstanding" seats of its conferences, without a per-conference
member count (the store has each node's total only). ``load`` above ``booked``: members the
leases do not cover (a conference over its booking, a stale heartbeat), counted as they are.
A conference booked for 20 whose first caller just came thus weighs 20 on its node at once: the
first caller's node no longer claims a conference whatever its size (the placement simulation,
bench/placement_sim.py, measured that rule at max node load / mean p99 1.75, busiest 124 %).

The claiming node is the live node with room (load under its seats) of the lowest **expected
fill** once it holds the new conference too, ``(expected + size) / seats`` with ``size`` the
conference's own booked seats, by name on a tie so every node chooses alike. The answering node
``here`` keeps the claim (no relay for that caller) while its expected fill is within ``slack``
(a fill fraction, ClusterPlacementSettings.claim_slack) of that least one: balanced, most first
callers stay local; a node ahead of the others hands its claims off. All nodes full: ``here``
if alive (seat capacity is the booking ledger's rule, not placement's).

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
    booked: int = 0  # seats booked by the conferences it holds a live lease on

    @property
    def load(self) -> int:
        return self.members + self.in_flight

    @property
    def expected(self) -> int:
        """Its load once its conferences have all come: its booked seats, or its load if more."""
        return max(self.load, self.booked)

    def expected_fill(self, size: int = 0) -> float:
        """Its expected load with ``size`` more booked seats (a conference it would claim), over
        its seats."""
        return (self.expected + size) / self.seats if self.seats > 0 else float("inf")

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


@dataclass(frozen=True, kw_only=True)  # after NodeLoad's defaulted ``booked``
class NodeStatus(NodeLoad):
    """A node's load with where to reach it and when it was last heard of (the dashboard's and
    the relaying node's view)."""

    sip_address: str
    heartbeat_at: datetime


def statuses(
    beats: Sequence[NodeBeat],
    in_flight: Mapping[str, int],
    now: datetime,
    dead_after: timedelta,
    booked: Mapping[str, int] | None = None,
) -> list[NodeStatus]:
    """Each node's load as ``place`` takes it, by name (``booked``: each node's booked seats)."""
    booked = booked or {}
    return [
        NodeStatus(
            name=b.name,
            seats=b.seats,
            members=b.members,
            in_flight=in_flight.get(b.name, 0),
            alive=b.alive_at(now, dead_after),
            booked=booked.get(b.name, 0),
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
    *,
    size: int,
    slack: float,
) -> Placement | None:
    """The node a caller answered on ``here`` joins ``reservation_id`` on; None: no live node.

    A live lease held by a live node wins whatever its load: a conference is never split. Else
    the conference (``size`` seats booked) is claimed under a new epoch by ``here`` while its
    expected fill with the conference is within ``slack`` of the least among the live nodes with
    room, else by that least one (then by name); else, all full, by ``here`` if alive.
    """
    alive = {n.name: n for n in nodes if n.alive}
    if lease is not None and lease.live_at(now) and lease.node in alive:
        return Placement(reservation_id, lease.node, lease.epoch, claimed=False)
    epoch = (lease.epoch if lease is not None else 0) + 1
    roomy = [n for n in alive.values() if n.has_room]
    local = alive.get(here)
    if roomy:
        least = min(roomy, key=lambda n: (n.expected_fill(size), n.name))
        if (
            local is not None
            and local.has_room
            and local.expected_fill(size) <= least.expected_fill(size) + slack
        ):
            return Placement(reservation_id, here, epoch, claimed=True)
        return Placement(reservation_id, least.name, epoch, claimed=True)
    if local is not None:
        return Placement(reservation_id, here, epoch, claimed=True)
    return None
