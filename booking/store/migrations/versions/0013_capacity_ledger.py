"""The capacity ledger: per slot (one minute), the seats of the confirmed bookings covering it
whole and its peak (booking.domain.ledger, booking.store.ledger), built here from the existing
bookings; the two ranges that resolve a slot exactly (confirmed bookings by start, by end).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from booking.store.ledger import DEFAULT_SLOT, SlotLedger

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "capacity_slots",
        sa.Column(
            "slot",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("covered", sa.Integer, nullable=False),
        sa.Column("peak", sa.Integer, nullable=False),
    )
    op.create_table(
        "capacity_ledger",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("slot_seconds", sa.Integer, nullable=False),
    )
    for name, columns in (
        ("ix_reservations_active_starts", ["starts_at", "ends_at", "seats"]),
        ("ix_reservations_active_ends", ["ends_at", "starts_at", "seats"]),
    ):
        op.create_index(name, "reservations", columns, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    SlotLedger(op.get_bind()).rebuild(DEFAULT_SLOT)


def downgrade() -> None:
    op.drop_index("ix_reservations_active_ends", table_name="reservations")
    op.drop_index("ix_reservations_active_starts", table_name="reservations")
    op.drop_table("capacity_ledger")
    op.drop_table("capacity_slots")
