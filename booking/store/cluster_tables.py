"""The tables of several media nodes on one store (issue 21, booking.domain.placement): the nodes'
heartbeats, the conferences' leases and the placements still in flight. The ``node`` columns of
``usage_legs`` and ``live_seats`` are with those tables (store/usage.py, live_tables.py)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from booking.store.tables import UtcDateTime, metadata

NODE_NAME = 32  # a node's name: short, it is on every leg and seat

cluster_nodes = Table(
    "cluster_nodes",
    metadata,
    Column("name", String(NODE_NAME), primary_key=True),
    Column("sip_address", String(255), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("members", Integer, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

# One row per conference ever placed: a vacant lease (node '') keeps its epoch, so every new
# holder's epoch is above all earlier ones.
conference_leases = Table(
    "conference_leases",
    metadata,
    Column("reservation_id", Integer, primary_key=True, autoincrement=False),
    Column("node", String(NODE_NAME), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
# A dead node's leases, dropped together.
Index("ix_conference_leases_node", conference_leases.c.node)

placements = Table(
    "placements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reservation_id", Integer, nullable=False),
    Column("node", String(NODE_NAME), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
# Every placement counts the unexpired ones per node, and sweeps the expired.
Index("ix_placements_expires", placements.c.expires_at, placements.c.node)
