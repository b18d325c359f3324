"""Dial-out caps (toll fraud): each call knows its profile, and calls are counted by time.

The caps count a reservation's and a profile's calls in sliding windows (a day, an hour, a
minute): two index ranges, (reservation_id, created_at) and (profile_id, created_at).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PROFILE_FK = "fk_dialout_calls_profile"
PROFILE_OF_CALL = sa.text(
    "UPDATE dialout_calls SET profile_id = (SELECT rooms.profile_id FROM reservations"
    " JOIN rooms ON rooms.id = reservations.room_id WHERE reservations.id = dialout_calls.reservation_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("dialout_calls") as batch:
        batch.add_column(sa.Column("profile_id", sa.Integer, nullable=True))
        batch.create_foreign_key(PROFILE_FK, "profiles", ["profile_id"], ["id"])
    op.execute(PROFILE_OF_CALL)
    with op.batch_alter_table("dialout_calls") as batch:
        batch.alter_column("profile_id", existing_type=sa.Integer, nullable=False)
    op.drop_index("ix_dialout_reservation", "dialout_calls")
    op.create_index("ix_dialout_reservation_created", "dialout_calls", ["reservation_id", "created_at"])
    op.create_index("ix_dialout_profile_created", "dialout_calls", ["profile_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_dialout_profile_created", "dialout_calls")
    op.drop_index("ix_dialout_reservation_created", "dialout_calls")
    op.create_index("ix_dialout_reservation", "dialout_calls", ["reservation_id"])
    with op.batch_alter_table("dialout_calls") as batch:
        batch.drop_constraint(PROFILE_FK, type_="foreignkey")
        batch.drop_column("profile_id")
