"""E-mail orders wait for a one-time code; indexes for the new-sender and flood limits.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("command", sa.String(500), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("code_salt", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("wrong_codes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.String(12), nullable=False, server_default="waiting"),
        sa.Column("used_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_confirmations_address", "confirmations", ["channel", "address", "state"])
    op.create_index("ix_senders_created", "senders", ["channel", "created_at"])
    op.create_index("ix_inbound_outcome", "inbound_messages", ["channel", "outcome", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_outcome", "inbound_messages")
    op.drop_index("ix_senders_created", "senders")
    op.drop_table("confirmations")
