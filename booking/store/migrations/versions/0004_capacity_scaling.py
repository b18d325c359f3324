"""Costs that follow the bookings near a window, not the table: capacity by length class,
the room sweep on live rooms only, rooms by profile.

- reservations.span_class (see tables.span_class) and ix_reservations_capacity
  (span_class, status, starts_at, ends_at, seats) replace ix_reservations_status_start, whose
  range had to reach back the longest window allowed (14 days) for every check, and which led
  SQLite (no statistics) to walk every active booking to count one profile's rooms;
- ix_reservations_pending (partial) for the operator queue;
- rooms.releasable_at with a partial index on live rooms replaces the sweep's scan of every
  reservation ever made (ix_reservations_window goes: nothing reads it any more);
- ix_rooms_profile (profile_id, releasable_at): a profile's rooms, and the per-profile limit
  counted over its rooms not yet ended, instead of a join a generic plan may turn into a scan.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from booking.store.tables import RELEASE_AT_ONCE, UtcDateTime, span_class

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
PENDING = sa.text("status = 'pending'")

_reservations = sa.table(
    "reservations",
    sa.column("id", sa.Integer),
    sa.column("room_id", sa.Integer),
    sa.column("starts_at", UtcDateTime),
    sa.column("ends_at", UtcDateTime),
    sa.column("status", sa.String),
    sa.column("span_class", sa.SmallInteger),
)
_rooms = sa.table("rooms", sa.column("id", sa.Integer), sa.column("releasable_at", UtcDateTime))


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("span_class", sa.SmallInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("releasable_at", UtcDateTime, nullable=True))

    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_reservations.c.id, _reservations.c.room_id, _reservations.c.starts_at,
                  _reservations.c.ends_at, _reservations.c.status)
    ).all()  # fmt: skip
    classes = [{"rid": r.id, "k": span_class(r.starts_at, r.ends_at)} for r in rows]
    if any(c["k"] for c in classes):
        conn.execute(
            _reservations.update()
            .where(_reservations.c.id == sa.bindparam("rid"))
            .values(span_class=sa.bindparam("k")),
            [c for c in classes if c["k"]],
        )
    ends = [
        {"room": r.room_id, "at": RELEASE_AT_ONCE if r.status in ("rejected", "deleted") else r.ends_at}
        for r in rows
    ]
    ends = [e for e in ends if e["at"] is not None]
    if ends:
        conn.execute(
            _rooms.update()
            .where(_rooms.c.id == sa.bindparam("room"))
            .values(releasable_at=sa.bindparam("at")),
            ends,
        )

    op.drop_index("ix_reservations_status_start", "reservations")
    op.drop_index("ix_reservations_window", "reservations")
    op.create_index(
        "ix_reservations_capacity", "reservations", ["span_class", "status", "starts_at", "ends_at", "seats"]
    )
    op.create_index(
        "ix_reservations_pending", "reservations", ["id"], sqlite_where=PENDING, postgresql_where=PENDING
    )
    op.create_index(
        "ix_rooms_releasable", "rooms", ["releasable_at"], sqlite_where=LIVE, postgresql_where=LIVE
    )
    op.create_index("ix_rooms_profile", "rooms", ["profile_id", "releasable_at"])


def downgrade() -> None:
    op.drop_index("ix_rooms_profile", "rooms")
    op.drop_index("ix_rooms_releasable", "rooms")
    op.drop_index("ix_reservations_pending", "reservations")
    op.drop_index("ix_reservations_capacity", "reservations")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("releasable_at")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("span_class")
    op.create_index("ix_reservations_window", "reservations", ["ends_at", "starts_at"])
    op.create_index("ix_reservations_status_start", "reservations", ["status", "starts_at"])
