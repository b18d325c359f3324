"""The booking schema. Migrations in ``migrations/versions`` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
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
)
# Conference numbers are unique among live (not deleted) rooms.
Index(
    "uq_rooms_live_number",
    rooms.c.conference_number,
    unique=True,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)

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
)
Index("ix_reservations_room", reservations.c.room_id)
Index("ix_reservations_window", reservations.c.ends_at, reservations.c.starts_at)
# The capacity check reads bookings that start within [start - longest window, end): a range
# on this index, so its cost follows the bookings near the window, not the table size.
Index("ix_reservations_status_start", reservations.c.status, reservations.c.starts_at)
profiles.append_constraint(UniqueConstraint("token_hash", name="uq_profiles_token_hash"))
