"""Wrong-PIN counters shared across calls (PIN guessing limits).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_attempts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", UtcDateTime, nullable=True),
        sa.Column("locked_until", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pin_attempts")
