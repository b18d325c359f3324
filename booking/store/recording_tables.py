"""The recordings table (booking.domain.recording)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table

from booking.store.tables import UtcDateTime, metadata

recordings = Table(
    "recordings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reservation_id", Integer, ForeignKey("reservations.id"), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("path", String(1000), nullable=False),
    Column("size_bytes", BigInteger, nullable=False, server_default="0"),
)
# The organizer's list; the retention sweep reads by end.
Index("ix_recordings_reservation", recordings.c.reservation_id)
Index("ix_recordings_ended", recordings.c.ended_at)
