"""Dial-out (R40, R49, R50): reservations that call their invitees, the calls, outbound legs.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ACTIVE = sa.text("state IN ('pending', 'calling', 'answered')")


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("dial_out", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("usage_legs") as batch:
        batch.add_column(sa.Column("outbound", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("rated_legs") as batch:
        batch.add_column(sa.Column("outbound", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "dialout_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("next_at", UtcDateTime, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_outcome", sa.String(16), nullable=False, server_default=""),
        sa.Column("requested_by", sa.String(12), nullable=False, server_default="schedule"),
        sa.Column("uniqueid", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_dialout_reservation", "dialout_calls", ["reservation_id"])
    op.create_index(
        "ix_dialout_due", "dialout_calls", ["next_at"], sqlite_where=ACTIVE, postgresql_where=ACTIVE
    )


def downgrade() -> None:
    op.drop_table("dialout_calls")
    with op.batch_alter_table("rated_legs") as batch:
        batch.drop_column("outbound")
    with op.batch_alter_table("usage_legs") as batch:
        batch.drop_column("outbound")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("dial_out")
