"""The media nodes' leases are not held by the fakes: the placement's tests run on the SQL store
(both backends: its locks are the point), the rule itself in tests/unit/test_placement.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NoReturn

from booking.domain.placement import Lease, NodeBeat


def _unsupported() -> NoReturn:
    raise NotImplementedError("the fake unit of work holds no cluster: test it against the SQL store")


class UnsupportedCluster:
    def beat(self, beat: NodeBeat) -> None:
        _unsupported()

    def beats(self) -> list[NodeBeat]:
        _unsupported()

    def beat_of(self, node: str) -> NodeBeat | None:
        _unsupported()

    def lock_lease(self, reservation_id: int, now: datetime) -> Lease:
        _unsupported()

    def held_by(self, node: str) -> list[tuple[Lease, str]]:
        _unsupported()

    def booked_seats(self, now: datetime, besides: int | None = None) -> Mapping[str, int]:
        _unsupported()

    def conference_seats(self, reservation_id: int) -> int:
        _unsupported()

    def lease(self, reservation_id: int) -> Lease | None:
        _unsupported()

    def hold(self, lease: Lease) -> None:
        _unsupported()

    def renew(self, node: str, reservation_id: int, epoch: int, until: datetime) -> bool:
        _unsupported()

    def vacate(self, reservation_id: int, node: str, epoch: int, at: datetime) -> bool:
        _unsupported()

    def vacate_node(self, node: str, at: datetime) -> int:
        _unsupported()

    def add_placement(self, reservation_id: int, node: str, at: datetime, expires_at: datetime) -> int:
        _unsupported()

    def remove_placement(self, placement_id: int) -> bool:
        _unsupported()

    def in_flight(self, now: datetime) -> Mapping[str, int]:
        _unsupported()

    def sweep_placements(self, now: datetime) -> int:
        _unsupported()
