"""Conference recordings: the per-reservation ``record`` option and one row per recorded
session (issue 19).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("record", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime, nullable=True),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_recordings_reservation", "recordings", ["reservation_id"])
    op.create_index("ix_recordings_ended", "recordings", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_recordings_ended", table_name="recordings")
    op.drop_index("ix_recordings_reservation", table_name="recordings")
    op.drop_table("recordings")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("record")
