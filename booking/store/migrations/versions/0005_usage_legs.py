"""Usage records: one row per participant leg, keyed by the Asterisk unique id.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_legs",
        sa.Column("uniqueid", sa.String(64), primary_key=True),
        sa.Column("conference_number", sa.String(12), nullable=False),
        sa.Column("reservation_id", sa.Integer, nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("caller_number", sa.String(32), nullable=False, server_default=""),
        sa.Column("mobile", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("role", sa.String(16), nullable=False, server_default="participant"),
        sa.Column("name_file", sa.String(255), nullable=True),
        sa.Column("joined_at", UtcDateTime, nullable=False),
        sa.Column("left_at", UtcDateTime, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
    )
    op.create_index("ix_usage_legs_reservation", "usage_legs", ["reservation_id", "joined_at"])
    op.create_index(
        "ix_usage_legs_open",
        "usage_legs",
        ["conference_number"],
        sqlite_where=sa.text("left_at IS NULL"),
        postgresql_where=sa.text("left_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("usage_legs")
