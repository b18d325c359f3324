"""Booking rules: API tokens, the booker's maximum, titles, operator notes, capacity index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_profiles_token_hash", ["token_hash"])
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("max_participants", sa.Integer, nullable=True))
        batch.add_column(sa.Column("title", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("note", sa.String(500), nullable=False, server_default=""))
    op.create_index("ix_reservations_status_start", "reservations", ["status", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_reservations_status_start", "reservations")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("note")
        batch.drop_column("title")
        batch.drop_column("max_participants")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_constraint("uq_profiles_token_hash", type_="unique")
        batch.drop_column("token_hash")
