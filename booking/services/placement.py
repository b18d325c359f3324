"""Which media node mixes a conference, as the store knows it (issue 21: several Asterisk nodes,
each with its own controller, on one PostgreSQL). The rule is booking.domain.placement's; this
service keeps its state: each node's heartbeat, each conference's lease and the placements in
flight, one transaction per call (blocking: the controller calls it off its event loop).

The controller of node ``settings.node`` beats every second or so (``heartbeat``) and before it
answers its first caller: a node whose last beat is older than ``node_dead_after_s`` is dead to
every other node, which then claims its conferences and closes its legs (``close_dead_node``).
After the PIN it asks ``place``: the node the caller joins on, with the placement's id, which it
reports once the caller joined or gave up (``arrived``); the hosting node renews the leases of
its conferences (``renew``: the ones it lost, to a newer epoch, it must give up) and releases
each as it empties (``release``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from booking.domain.clock import Clock
from booking.domain.placement import Lease, NodeBeat, NodeStatus, Placement, place, statuses
from booking.domain.usage import EndReason
from booking.services.ports import UnitOfWork
from booking.services.usage import LegClosed
from booking.settings import ClusterPlacementSettings


class PlacementService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        settings: ClusterPlacementSettings,
        on_closed: LegClosed | None = None,
    ) -> None:
        """``on_closed``: the usage service's hook (the session's report), run for each leg
        ``close_dead_node`` closes, in its transaction, as ``UsageService.record_leave`` does."""
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._on_closed = on_closed

    @property
    def node(self) -> str:
        return self._s.node

    def heartbeat(self, members: int) -> None:
        """This node is alive and mixes ``members`` members now."""
        s = self._s
        with self._uow() as tx:
            tx.cluster.beat(NodeBeat(s.node, s.sip_address, s.seats, members, self._clock.now()))

    def place(self, reservation_id: int) -> Placement | None:
        """The node a caller answered here joins ``reservation_id`` on (booking.domain.placement
        .place), with ``placement_id`` set: the caller counts on that node as in flight until
        ``arrived`` or ``in_flight_ttl_s``. A claim weighs each node's booked seats (its live
        leases' reservations) and the conference's own, read in the same transaction; it gives
        the node the lease (a new epoch, for ``lease_ttl_s``). None: no live node (this one's
        heartbeat is stale too)."""
        now = self._clock.now()
        with self._uow() as tx:
            c = tx.cluster
            lease = c.lock_lease(reservation_id, now)  # racing placements take turns
            c.sweep_placements(now)
            booked = c.booked_seats(now, besides=reservation_id)
            nodes = statuses(c.beats(), c.in_flight(now), now, self._s.node_dead_after, booked)
            size = c.conference_seats(reservation_id)
            chosen = place(
                reservation_id, lease, self._s.node, nodes, now, size=size, slack=self._s.claim_slack
            )
            if chosen is None:
                return None
            if chosen.claimed:
                c.hold(Lease(reservation_id, chosen.node, chosen.epoch, now + self._s.lease_ttl))
            placed = c.add_placement(reservation_id, chosen.node, now, now + self._s.in_flight_ttl)
        return dataclasses.replace(chosen, placement_id=placed)

    def arrived(self, placement_id: int) -> None:
        """The caller placed joined (or gave up): no longer in flight."""
        with self._uow() as tx:
            tx.cluster.remove_placement(placement_id)

    def renew(self, held: Mapping[int, int]) -> set[int]:
        """Extend the leases of the conferences this node hosts (reservation id -> the epoch it
        holds) by ``lease_ttl_s``; returns the ones it no longer holds (superseded by a newer
        epoch, or released): their members must go."""
        if not held:
            return set()
        until = self._clock.now() + self._s.lease_ttl
        with self._uow() as tx:
            # In id order: two nodes renewing the same rows lock them in the same order.
            return {r for r in sorted(held) if not tx.cluster.renew(self._s.node, r, held[r], until)}

    def release(self, reservation_id: int, epoch: int) -> None:
        """The conference emptied here: the lease is given up (if this node still holds it under
        ``epoch``; a newer holder keeps it)."""
        with self._uow() as tx:
            tx.cluster.vacate(reservation_id, self._s.node, epoch, self._clock.now())

    def lease(self, reservation_id: int) -> Lease | None:
        """Who holds the conference (None: nobody; a lease may be held past its expiry until
        another node claims it: see ``Lease.live_at``)."""
        with self._uow(read_only=True) as tx:
            return tx.cluster.lease(reservation_id)

    def held_here(self) -> list[tuple[int, int, str]]:
        """The conferences this node holds: (reservation id, epoch, conference number)."""
        with self._uow(read_only=True) as tx:
            return [
                (lease.reservation_id, lease.epoch, number)
                for lease, number in tx.cluster.held_by(self._s.node)
            ]

    def nodes(self) -> list[NodeStatus]:
        """Every node the store heard of, with its load, booked seats, address and last
        heartbeat, by name."""
        now = self._clock.now()
        with self._uow(read_only=True) as tx:
            c = tx.cluster
            booked = c.booked_seats(now)
            return statuses(c.beats(), c.in_flight(now), now, self._s.node_dead_after, booked)

    def dead_nodes(self) -> list[str]:
        """The other nodes unheard of for ``node_dead_after_s`` (by name)."""
        now = self._clock.now()
        with self._uow(read_only=True) as tx:
            beats = tx.cluster.beats()
        dead_after = self._s.node_dead_after
        return [b.name for b in beats if b.name != self._s.node and not b.alive_at(now, dead_after)]

    def close_dead_node(self, node: str) -> int:
        """A dead node's members are gone: its open legs are closed at its last heartbeat (or at
        their join, if later), each through the usage hook; its live seats are freed and its
        leases given up. Nothing happens to this node or one alive again. Returns the legs closed
        (a second call: 0)."""
        now = self._clock.now()
        with self._uow() as tx:
            beat = tx.cluster.beat_of(node)
            if node == self._s.node or beat is None or beat.alive_at(now, self._s.node_dead_after):
                return 0
            closed = 0
            for leg in tx.usage.open_legs(node):
                left_at = max(beat.heartbeat_at, leg.joined_at)
                if not tx.usage.close(leg.uniqueid, left_at, EndReason.NODE_LOST):
                    continue
                closed += 1
                done = tx.usage.get(leg.uniqueid)
                if self._on_closed is not None and done is not None:
                    self._on_closed(tx, done, now)
            tx.live.release_node_seats(node)
            tx.cluster.vacate_node(node, now)
            return closed


__all__ = ["PlacementService"]
