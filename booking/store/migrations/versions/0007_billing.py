"""Rating and billing: the access number of a usage leg, tariff versions, plans, rated legs.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from booking.store.billing_tables import ExactDecimal
from booking.store.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_legs") as batch:
        batch.add_column(sa.Column("access_number", sa.String(32), nullable=False, server_default=""))
    op.create_table(
        "tariff_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("loaded_at", UtcDateTime, nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "account_plans",
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("plan", sa.String(40), nullable=False),
    )
    op.create_table(
        "rated_legs",
        sa.Column("uniqueid", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("profile_id", sa.Integer, nullable=True),
        sa.Column("reservation_id", sa.Integer, nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("seconds", sa.Integer, nullable=False),
        sa.Column("caller_rule", sa.String(200), nullable=False),
        sa.Column("caller_billed_s", sa.Integer, nullable=False),
        sa.Column("caller_net", ExactDecimal, nullable=False),
        sa.Column("caller_gross", ExactDecimal, nullable=False),
        sa.Column("plan", sa.String(40), nullable=False),
        sa.Column("billed_s", sa.Integer, nullable=False),
        sa.Column("net", ExactDecimal, nullable=False),
        sa.Column("tariff_version", sa.Integer, nullable=False),
        sa.Column("rated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_rated_legs_month", "rated_legs", ["month", "profile_id"])


def downgrade() -> None:
    for table in ("rated_legs", "account_plans", "tariff_versions"):
        op.drop_table(table)
    with op.batch_alter_table("usage_legs") as batch:
        batch.drop_column("access_number")
