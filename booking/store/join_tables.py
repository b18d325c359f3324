"""The join links and call tokens (booking.domain.join_links, issue 20; migration 0018)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from booking.store.tables import UtcDateTime, metadata

join_links = Table(
    "join_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("link_id", String(32), nullable=False, unique=True),  # the random id the URL carries
    Column("reservation_id", Integer, ForeignKey("reservations.id"), nullable=False),
    # No foreign key: an invitee taken off the list (its row deleted) leaves a link that no
    # longer opens (the service checks the list), not a failed delete.
    Column("invitee_id", Integer, nullable=True),
    # SHA-256 of the invitee's channel and address: a row id can come back (SQLite reuses the
    # highest), so the link opens only while this very address is listed.
    Column("invitee_key", String(64), nullable=True),
    Column("role", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
# An invitee's link is looked up when an invitation is sent (the same link each time).
Index("ix_join_links_reservation", join_links.c.reservation_id, join_links.c.invitee_key)

join_tokens = Table(
    "join_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256: never the token
    Column("link_id", Integer, ForeignKey("join_links.id"), nullable=False),
    Column("reservation_id", Integer, ForeignKey("reservations.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("name", String(60), nullable=False, server_default=""),
    Column("used_at", UtcDateTime, nullable=True),
    Column("used_by", String(64), nullable=False, server_default=""),
)
# The sweep drops tokens long expired, oldest first.
Index("ix_join_tokens_expires", join_tokens.c.expires_at)
