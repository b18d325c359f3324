"""The placement rule as it was before the claims weighed booked seats (a baseline of the
placement simulation, bench/placement_replay.py's ``first_caller``): a live lease wins; else the
answering node claims while it has room, whatever its fill and the conference's size; else the
least-filled live node with room (placements in flight counted); else, all full, the answering
node. Kept here only to measure the product's rule (booking.domain.placement.place) against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from booking.domain.placement import Lease, NodeLoad, Placement


def first_caller_place(
    reservation_id: int, lease: Lease | None, here: str, nodes: Sequence[NodeLoad], now: datetime
) -> Placement | None:
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
