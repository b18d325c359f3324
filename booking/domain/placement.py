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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


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

    def relayed_from(self, here: str) -> bool:
        return self.node != here


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
