"""The live conferences' durable state: end decisions, live seats, and on each usage leg the
caller's language and the mobile cap's warning; recorded names by when their leg ended.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "end_decisions",
        sa.Column("reservation_id", sa.Integer, primary_key=True),
        sa.Column("ends_at", UtcDateTime, primary_key=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("decided_at", UtcDateTime, nullable=False),
        sa.Column("warned_at", UtcDateTime, nullable=True),
    )
    op.create_table(
        "live_seats",
        sa.Column("uniqueid", sa.String(64), primary_key=True),
        sa.Column("reservation_id", sa.Integer, nullable=False),
        sa.Column("held_from", UtcDateTime, nullable=False),
        sa.Column("held_until", UtcDateTime, nullable=False),
    )
    op.create_index("ix_live_seats_until", "live_seats", ["held_until"])
    with op.batch_alter_table("usage_legs") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default=""))
        batch.add_column(sa.Column("cap_warned_at", UtcDateTime, nullable=True))
    op.create_index(
        "ix_usage_legs_names",
        "usage_legs",
        ["left_at"],
        sqlite_where=sa.text("name_file IS NOT NULL"),
        postgresql_where=sa.text("name_file IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_usage_legs_names", table_name="usage_legs")
    with op.batch_alter_table("usage_legs") as batch:
        batch.drop_column("cap_warned_at")
        batch.drop_column("language")
    op.drop_index("ix_live_seats_until", table_name="live_seats")
    op.drop_table("live_seats")
    op.drop_table("end_decisions")
