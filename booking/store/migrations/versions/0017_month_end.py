"""The month-end run (R51): each month's run and each organizer's progress; files attached to
outbox e-mails; where a profile's statements and reports are e-mailed, and whether it wants
the post-conference report (R53).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from booking.store.billing_tables import ExactDecimal
from booking.store.tables import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as t:
        t.add_column(sa.Column("mail_address", sa.String(254), nullable=True))
        t.add_column(sa.Column("mail_reports", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "month_end_runs",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("statements", sa.Integer, nullable=False, server_default="0"),
        sa.Column("mailed", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "month_end_statements",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("built_at", UtcDateTime, nullable=False),
        sa.Column("net", ExactDecimal, nullable=False),
        sa.Column("gross", ExactDecimal, nullable=False),
        sa.Column("recipient", sa.String(254), nullable=True),
    )
    op.create_table(
        "outbox_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_outbox_attachments_key", "outbox_attachments", ["message_key"])


def downgrade() -> None:
    op.drop_index("ix_outbox_attachments_key", "outbox_attachments")
    op.drop_table("outbox_attachments")
    op.drop_table("month_end_statements")
    op.drop_table("month_end_runs")
    with op.batch_alter_table("profiles") as t:
        t.drop_column("mail_reports")
        t.drop_column("mail_address")
