"""Profiles, rooms and reservations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("conference_number", sa.String(12), nullable=False),
        sa.Column("pin", sa.String(12), nullable=False),
        sa.Column("admin_pin", sa.String(12), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
    )
    op.create_index(
        "uq_rooms_live_number",
        "rooms",
        ["conference_number"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=True),
        sa.Column("ends_at", UtcDateTime, nullable=True),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_reservations_room", "reservations", ["room_id"])
    op.create_index("ix_reservations_window", "reservations", ["ends_at", "starts_at"])


def downgrade() -> None:
    op.drop_table("reservations")
    op.drop_table("rooms")
    op.drop_table("profiles")
