"""Several media nodes on one store (issue 21): the nodes' heartbeats, the conferences' leases,
the placements in flight, and the node each usage leg and live seat is on ('' a single node).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("sip_address", sa.String(255), nullable=False),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "conference_leases",
        sa.Column("reservation_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_conference_leases_node", "conference_leases", ["node"])
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reservation_id", sa.Integer, nullable=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("placed_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_placements_expires", "placements", ["expires_at", "node"])
    for table in ("usage_legs", "live_seats"):
        with op.batch_alter_table(table) as t:
            t.add_column(sa.Column("node", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("live_seats", "usage_legs"):
        with op.batch_alter_table(table) as t:
            t.drop_column("node")
    op.drop_index("ix_placements_expires", "placements")
    op.drop_table("placements")
    op.drop_index("ix_conference_leases_node", "conference_leases")
    op.drop_table("conference_leases")
    op.drop_table("cluster_nodes")
