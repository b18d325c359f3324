"""Joining from a browser (issue 20): each invitee's join link, the short-lived single-use call
tokens its page mints, and usage legs marked web (with the name typed on the page).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "join_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("link_id", sa.String(32), nullable=False, unique=True),
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("invitee_id", sa.Integer, nullable=True),
        sa.Column("invitee_key", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_join_links_reservation", "join_links", ["reservation_id", "invitee_key"])
    op.create_table(
        "join_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("join_links.id"), nullable=False),
        sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("issued_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("name", sa.String(60), nullable=False, server_default=""),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.Column("used_by", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_join_tokens_expires", "join_tokens", ["expires_at"])
    with op.batch_alter_table("usage_legs") as t:
        t.add_column(sa.Column("web", sa.Boolean, nullable=False, server_default=sa.false()))
        t.add_column(sa.Column("display_name", sa.String(60), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("usage_legs") as t:
        t.drop_column("display_name")
        t.drop_column("web")
    op.drop_index("ix_join_tokens_expires", "join_tokens")
    op.drop_table("join_tokens")
    op.drop_index("ix_join_links_reservation", "join_links")
    op.drop_table("join_links")
