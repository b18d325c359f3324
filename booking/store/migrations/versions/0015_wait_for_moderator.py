"""Waiting for the moderator (issue 19): two options of a reservation, both off.

``wait_for_moderator``: participants hear hold music until the first moderator joins;
``end_with_moderator``: the conference ends, after a notice, when the last moderator leaves.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(
            sa.Column("wait_for_moderator", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("end_with_moderator", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("end_with_moderator")
        batch.drop_column("wait_for_moderator")
