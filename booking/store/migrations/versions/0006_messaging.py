"""Ordering by SMS and e-mail, invitees, the notice outbox and invitations (issue 6).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "senders",
        sa.Column("channel", sa.String(8), primary_key=True),
        sa.Column("address", sa.String(254), primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("blocked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("refusal_sent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("hourly_limit", sa.Integer, nullable=True),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reservation_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("channel", "external_id", name="uq_inbound_external_id"),
    )
    op.create_index("ix_inbound_sender", "inbound_messages", ["channel", "sender", "received_at"])
    op.create_index("ix_inbound_reservation", "inbound_messages", ["reservation_id"])
    op.create_table(
        "invitees",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("reservation_id", "channel", "address", name="uq_invitee"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("reservation_id", sa.Integer, nullable=True),
        sa.Column("invitee_id", sa.Integer, nullable=True),
        sa.Column("subject", sa.String(300), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(300), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.Column("paid", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_outbox_due", "outbox", ["due_at"], sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index("ix_outbox_reservation", "outbox", ["reservation_id"])
    op.create_table(
        "invitations",
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("edited_at", UtcDateTime, nullable=True),
        sa.Column("sent_at", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    for table in ("invitations", "outbox", "invitees", "inbound_messages", "senders"):
        op.drop_table(table)
