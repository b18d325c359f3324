"""Several media nodes on one store (issue 21, booking.domain.placement): the nodes' heartbeats,
the conferences' leases and the placements in flight."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from booking.domain.placement import Lease, NodeBeat


class Cluster(Protocol):
    def beat(self, beat: NodeBeat) -> None:
        """Store a node's heartbeat (its row made on its first)."""
        ...

    def beats(self) -> list[NodeBeat]:
        """Every node's last heartbeat, by name."""
        ...

    def beat_of(self, node: str) -> NodeBeat | None: ...

    def lock_lease(self, reservation_id: int, now: datetime) -> Lease:
        """The conference's lease, locked for the rest of the transaction (vacant: node '',
        epoch 0, when it had none). Racing placements of one conference take turns here."""
        ...

    def lease(self, reservation_id: int) -> Lease | None:
        """The conference's lease; None when nobody holds it."""
        ...

    def held_by(self, node: str) -> list[tuple[Lease, str]]:
        """Every lease ``node`` holds, with its conference number."""
        ...

    def booked_seats(self, now: datetime, besides: int | None = None) -> Mapping[str, int]:
        """Per node, the seats booked by the conferences it holds a live lease on (the
        reservation ``besides``, the one being placed, left out)."""
        ...

    def conference_seats(self, reservation_id: int) -> int:
        """The seats the reservation booked (0: no such reservation)."""
        ...

    def hold(self, lease: Lease) -> None:
        """Give the locked conference's lease to ``lease.node`` under ``lease.epoch``."""
        ...

    def renew(self, node: str, reservation_id: int, epoch: int, until: datetime) -> bool:
        """Extend the lease if ``node`` still holds it under ``epoch``."""
        ...

    def vacate(self, reservation_id: int, node: str, epoch: int, at: datetime) -> bool:
        """``node`` gives the conference up, if it still holds it under ``epoch``."""
        ...

    def vacate_node(self, node: str, at: datetime) -> int:
        """Every lease ``node`` holds is given up."""
        ...

    def add_placement(self, reservation_id: int, node: str, at: datetime, expires_at: datetime) -> int:
        """A caller is sent to ``node``: its id, counted there until removed or expired."""
        ...

    def remove_placement(self, placement_id: int) -> bool: ...

    def in_flight(self, now: datetime) -> Mapping[str, int]:
        """The unexpired placements per node."""
        ...

    def sweep_placements(self, now: datetime) -> int:
        """Forget the expired placements."""
        ...
