"""The booking schema. Migrations in ``migrations/versions`` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; naive UTC in the database (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("language", String(8), nullable=False, server_default="en"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("token_hash", String(64), nullable=True),  # sha256 of the API token (unique)
    # booking.domain.account_plans: panel (3 active rooms, R27) or provider (any number, R45)
    Column("account_plan", String(16), nullable=False, server_default="panel"),
    # Where statements and reports are e-mailed, and whether the report follows each session
    # (migration 0017; read and written by store/statements.py only).
    Column("mail_address", String(254), nullable=True),
    Column("mail_reports", Boolean, nullable=False, server_default=false()),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("profile_id", Integer, ForeignKey("profiles.id"), nullable=False),
    Column("conference_number", String(12), nullable=False),
    Column("pin", String(12), nullable=False),
    Column("admin_pin", String(12), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
    # When the room's number may be freed: its reservation's end; RELEASE_AT_ONCE once the
    # reservation is refused or deleted; never (NULL) for an anytime room. Kept by the repository.
    Column("releasable_at", UtcDateTime, nullable=True),
)
# Conference numbers are unique among live (not deleted) rooms.
Index(
    "uq_rooms_live_number",
    rooms.c.conference_number,
    unique=True,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)
# The sweep that frees the numbers of ended rooms reads live rooms only, earliest end first:
# its cost follows the rooms it frees, not the history.
Index(
    "ix_rooms_releasable",
    rooms.c.releasable_at,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)
# A profile's rooms; the per-profile limit (R27) counts those not yet ended: one range.
Index("ix_rooms_profile", rooms.c.profile_id, rooms.c.releasable_at)
RELEASE_AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)

reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Column("seats", Integer, nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("max_participants", Integer, nullable=True),
    Column("title", String(200), nullable=False, server_default=""),
    Column("note", String(500), nullable=False, server_default=""),
    Column("span_class", SmallInteger, nullable=False, server_default="0"),  # see span_class()
    Column(
        "dial_out", Boolean, nullable=False, server_default=false()
    ),  # R40: call the invitees at the start
    Column("record", Boolean, nullable=False, server_default=false()),  # issue 19: record each session
    # Issue 19: participants wait for the first moderator; the last moderator ends it (0015)
    Column("wait_for_moderator", Boolean, nullable=False, server_default=false()),
    Column("end_with_moderator", Boolean, nullable=False, server_default=false()),
)
Index("ix_reservations_room", reservations.c.room_id)
# The capacity check: for each length class, one index range over the bookings of that class
# that start within the class's longest length before the window (see Repository.booked_overlapping).
# Every booking read overlaps the window or starts at most one class length before it, so the
# cost follows the bookings near the window, not the table size nor the longest booking.
# Covering: the query reads the index only. It leads with span_class, not status, so that no
# index tempts the planner (SQLite has no statistics) to walk every active booking for a query
# that also names a profile or a room.
Index(
    "ix_reservations_capacity",
    reservations.c.span_class,
    reservations.c.status,
    reservations.c.starts_at,
    reservations.c.ends_at,
    reservations.c.seats,
)
# The capacity ledger (store.ledger) resolves a slot exactly from the confirmed bookings that
# start or end inside it: two ranges, on confirmed bookings only (a literal: a partial index).
ACTIVE_ONLY = text("status = 'active'")
Index(
    "ix_reservations_active_starts",
    reservations.c.starts_at,
    reservations.c.ends_at,
    reservations.c.seats,
    sqlite_where=ACTIVE_ONLY,
    postgresql_where=ACTIVE_ONLY,
)
Index(
    "ix_reservations_active_ends",
    reservations.c.ends_at,
    reservations.c.starts_at,
    reservations.c.seats,
    sqlite_where=ACTIVE_ONLY,
    postgresql_where=ACTIVE_ONLY,
)
# The operator queue: the few pending requests, without an index on every status.
PENDING_ONLY = text("status = 'pending'")
Index("ix_reservations_pending", reservations.c.id, sqlite_where=PENDING_ONLY, postgresql_where=PENDING_ONLY)

# Length classes: class k holds windows at most SPAN_UNIT * SPAN_FACTOR**k long (15 min, 1 h,
# 4 h, 16 h, 64 h, 256 h); the last class holds the longer ones, bounded by the longest window
# the rules allow.
SPAN_UNIT = timedelta(minutes=15)
SPAN_FACTOR = 4
SPAN_CLASSES = 7


def span_limit(k: int) -> timedelta | None:
    """The longest window of class ``k``; None for the last, open-ended class."""
    return None if k >= SPAN_CLASSES - 1 else SPAN_UNIT * SPAN_FACTOR**k


def span_class(starts_at: datetime | None, ends_at: datetime | None) -> int:
    if starts_at is None or ends_at is None:
        return 0  # anytime: never in a capacity range (no start)
    length = ends_at - starts_at
    for k in range(SPAN_CLASSES - 1):
        limit = span_limit(k)
        assert limit is not None
        if length <= limit:
            return k
    return SPAN_CLASSES - 1


# The capacity ledger (booking.domain.ledger, store.ledger): per slot of ``slot_seconds`` (the one
# row of capacity_ledger), the seats of the confirmed bookings covering it whole and its peak.
capacity_slots = Table(
    "capacity_slots",
    metadata,
    # SQLite: INTEGER PRIMARY KEY is the rowid itself (64 bits), one B-tree and no other.
    Column("slot", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("covered", Integer, nullable=False),
    Column("peak", Integer, nullable=False),
)
capacity_ledger = Table(
    "capacity_ledger",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("slot_seconds", Integer, nullable=False),
)

profiles.append_constraint(UniqueConstraint("token_hash", name="uq_profiles_token_hash"))
