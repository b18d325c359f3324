"""Account plans: each profile's plan decides how many rooms it may hold (panel: 3 active
rooms, R27; provider: any number, R45). Every existing profile is on the panel plan.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("account_plan", sa.String(16), nullable=False, server_default="panel"))


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("account_plan")
