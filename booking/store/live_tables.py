"""The tables of the live conferences' durable state (booking.domain.live)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from booking.store.tables import UtcDateTime, metadata

end_decisions = Table(
    "end_decisions",
    metadata,
    Column("reservation_id", Integer, primary_key=True),
    Column("ends_at", UtcDateTime, primary_key=True),
    Column("outcome", String(12), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("warned_at", UtcDateTime, nullable=True),
)

live_seats = Table(
    "live_seats",
    metadata,
    Column("uniqueid", String(64), primary_key=True),
    Column("reservation_id", Integer, nullable=False),
    Column("held_from", UtcDateTime, nullable=False),
    Column("held_until", UtcDateTime, nullable=False),
    # The media node the member is mixed on (issue 21, migration 0019; '' a single node).
    Column("node", String(32), nullable=False, server_default=""),
)
# The capacity check reads the seats held after a window's start.
Index("ix_live_seats_until", live_seats.c.held_until)
