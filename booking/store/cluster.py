"""Several media nodes on one store (issue 21, booking.domain.placement): the nodes' heartbeats,
the conferences' leases and the placements in flight.

A conference's lease is one row, made vacant (node '') rather than deleted, so its epoch only
grows. ``lock_lease`` is what makes the first claim safe: it inserts a vacant row unless one is
there (ON CONFLICT DO NOTHING: on PostgreSQL a second inserter waits for the first's commit)
and reads it FOR UPDATE, so racing placements of one conference take turns and each sees the
claim of the one before. On SQLite the writer already holds the database's write lock from
BEGIN IMMEDIATE (booking.store.unit_of_work), as the capacity lock relies on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from booking.domain.placement import Lease, NodeBeat
from booking.store.cluster_tables import cluster_nodes, conference_leases, placements
from booking.store.tables import reservations, rooms

VACANT = ""  # the node of a lease nobody holds


def _lease(row: Any) -> Lease:
    return Lease(row.reservation_id, row.node, row.epoch, row.expires_at)


class ClusterRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert)(table)

    # --- the nodes ---------------------------------------------------------------------

    def beat(self, beat: NodeBeat) -> None:
        """Store a node's heartbeat (its row made on its first)."""
        values = {
            "sip_address": beat.sip_address,
            "seats": beat.seats,
            "members": beat.members,
            "heartbeat_at": beat.heartbeat_at,
        }
        stmt = self._insert(cluster_nodes).values(name=beat.name, **values)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))

    def beats(self) -> list[NodeBeat]:
        """Every node's last heartbeat, by name."""
        q = select(cluster_nodes).order_by(cluster_nodes.c.name)
        return [self._beat(r) for r in self.conn.execute(q)]

    def beat_of(self, node: str) -> NodeBeat | None:
        row = self.conn.execute(select(cluster_nodes).where(cluster_nodes.c.name == node)).first()
        return None if row is None else self._beat(row)

    @staticmethod
    def _beat(row: Any) -> NodeBeat:
        return NodeBeat(row.name, row.sip_address, row.seats, row.members, row.heartbeat_at)

    # --- the leases --------------------------------------------------------------------

    def lock_lease(self, reservation_id: int, now: datetime) -> Lease:
        """The conference's lease, locked for the rest of the transaction (made vacant, epoch 0,
        if it had none)."""
        vacant = {"reservation_id": reservation_id, "node": VACANT, "epoch": 0, "expires_at": now}
        stmt = self._insert(conference_leases).values(**vacant)
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["reservation_id"]))
        q = select(conference_leases).where(conference_leases.c.reservation_id == reservation_id)
        return _lease(self.conn.execute(q.with_for_update()).one())

    def lease(self, reservation_id: int) -> Lease | None:
        """The conference's lease; None when nobody holds it (never placed, or released)."""
        c = conference_leases.c
        q = select(conference_leases).where(c.reservation_id == reservation_id, c.node != VACANT)
        row = self.conn.execute(q).first()
        return None if row is None else _lease(row)

    def held_by(self, node: str) -> list[tuple[Lease, str]]:
        """Every lease ``node`` holds, with its conference number (a restarted controller takes
        up the conferences it hosts)."""
        c = conference_leases.c
        q = (
            select(conference_leases, rooms.c.conference_number)
            .join(reservations, reservations.c.id == c.reservation_id)
            .join(rooms, rooms.c.id == reservations.c.room_id)
            .where(c.node == node)
            .order_by(c.reservation_id)
        )
        return [(_lease(row), row.conference_number) for row in self.conn.execute(q)]

    def booked_seats(self, now: datetime, besides: int | None = None) -> Mapping[str, int]:
        """Per node, the seats booked by the conferences it holds a live lease on (unexpired,
        not vacant), ``besides`` (the reservation being placed) left out: what the node will
        carry once their members have all come (booking.domain.placement's expected load)."""
        c = conference_leases.c
        q = (
            select(c.node, func.sum(reservations.c.seats))
            .join(reservations, reservations.c.id == c.reservation_id)
            .where(c.node != VACANT, c.expires_at > now)
            .group_by(c.node)
        )
        if besides is not None:
            q = q.where(c.reservation_id != besides)
        return {node: int(seats) for node, seats in self.conn.execute(q)}

    def conference_seats(self, reservation_id: int) -> int:
        """The seats the reservation booked (0: no such reservation)."""
        q = select(reservations.c.seats).where(reservations.c.id == reservation_id)
        return int(self.conn.execute(q).scalar_one_or_none() or 0)

    def hold(self, lease: Lease) -> None:
        """Give the (locked) conference's lease to ``lease.node`` under ``lease.epoch``."""
        c = conference_leases.c
        self.conn.execute(
            update(conference_leases)
            .where(c.reservation_id == lease.reservation_id)
            .values(node=lease.node, epoch=lease.epoch, expires_at=lease.expires_at)
        )

    def renew(self, node: str, reservation_id: int, epoch: int, until: datetime) -> bool:
        """Extend the lease to ``until`` if ``node`` still holds it under ``epoch`` (else it was
        superseded or released: False)."""
        c = conference_leases.c
        done = self.conn.execute(
            update(conference_leases)
            .where(c.reservation_id == reservation_id, c.node == node, c.epoch == epoch)
            .values(expires_at=until)
        )
        return bool(done.rowcount)

    def vacate(self, reservation_id: int, node: str, epoch: int, at: datetime) -> bool:
        """``node`` gives the conference up, if it still holds it under ``epoch``."""
        c = conference_leases.c
        done = self.conn.execute(
            update(conference_leases)
            .where(c.reservation_id == reservation_id, c.node == node, c.epoch == epoch)
            .values(node=VACANT, expires_at=at)
        )
        return bool(done.rowcount)

    def vacate_node(self, node: str, at: datetime) -> int:
        """Every lease ``node`` holds is given up (the node is dead)."""
        c = conference_leases.c
        q = update(conference_leases).where(c.node == node).values(node=VACANT, expires_at=at)
        return int(self.conn.execute(q).rowcount)

    # --- the placements in flight ------------------------------------------------------

    def add_placement(self, reservation_id: int, node: str, at: datetime, expires_at: datetime) -> int:
        """A caller is sent to ``node``: counted there until it joins or ``expires_at``."""
        q = (
            insert(placements)
            .values(reservation_id=reservation_id, node=node, placed_at=at, expires_at=expires_at)
            .returning(placements.c.id)
        )
        return int(self.conn.execute(q).scalar_one())

    def remove_placement(self, placement_id: int) -> bool:
        done = self.conn.execute(delete(placements).where(placements.c.id == placement_id))
        return bool(done.rowcount)

    def in_flight(self, now: datetime) -> Mapping[str, int]:
        """The unexpired placements per node."""
        p = placements.c
        q = select(p.node, func.count()).where(p.expires_at > now).group_by(p.node)
        return {node: int(n) for node, n in self.conn.execute(q)}

    def sweep_placements(self, now: datetime) -> int:
        """Forget the placements whose caller never joined (expired)."""
        return int(self.conn.execute(delete(placements).where(placements.c.expires_at <= now)).rowcount)
