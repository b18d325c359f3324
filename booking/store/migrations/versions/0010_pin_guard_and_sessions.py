"""PIN guessing budgets and web sessions: live sessions a cookie needs, the index behind a
caller number's history in a reservation, and counters pruned by age.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_web_sessions_expires", "web_sessions", ["expires_at"])
    op.create_index("ix_pin_attempts_window", "pin_attempts", ["window_start"])
    op.create_index("ix_usage_legs_caller", "usage_legs", ["reservation_id", "caller_number", "role"])


def downgrade() -> None:
    op.drop_index("ix_usage_legs_caller", "usage_legs")
    op.drop_index("ix_pin_attempts_window", "pin_attempts")
    op.drop_index("ix_web_sessions_expires", "web_sessions")
    op.drop_table("web_sessions")
