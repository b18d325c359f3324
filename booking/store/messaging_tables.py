"""Tables of ordering by message and of notices (issue 6). Migration 0006 creates them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from booking.store.tables import UtcDateTime, metadata

# Who orders by SMS or e-mail: each sender has its own profile (R27's room limit applies per
# sender), a language, and the operator's abuse controls (R12).
senders = Table(
    "senders",
    metadata,
    Column("channel", String(8), primary_key=True),  # sms | email
    Column("address", String(254), primary_key=True),
    Column("profile_id", Integer, ForeignKey("profiles.id"), nullable=False),
    Column("language", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("blocked", Boolean, nullable=False, server_default=false()),
    Column("refusal_sent", Boolean, nullable=False, server_default=false()),
    Column("hourly_limit", Integer, nullable=True),  # None: the configured default
    Column("note", String(200), nullable=False, server_default=""),
)

# Every message received: the gateway's message id makes a redelivery a no-op.
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("sender", String(254), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("language", String(8), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("reservation_id", Integer, nullable=True),
    UniqueConstraint("channel", "external_id", name="uq_inbound_external_id"),
)
# The rate limit counts a sender's recent messages: one range.
Index(
    "ix_inbound_sender", inbound_messages.c.channel, inbound_messages.c.sender, inbound_messages.c.received_at
)
Index("ix_inbound_reservation", inbound_messages.c.reservation_id)

# The participants a reservation lists for notices (R21): an e-mail address or a phone number.
invitees = Table(
    "invitees",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reservation_id", Integer, ForeignKey("reservations.id"), nullable=False),
    Column("channel", String(8), nullable=False),  # sms | email
    Column("address", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    UniqueConstraint("reservation_id", "channel", "address", name="uq_invitee"),
)

# The durable outbox: replies, confirmations and scheduled notices. A row is sent once; its
# key makes planning idempotent (re-planning a reservation adds only what is missing).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("reservation_id", Integer, nullable=True),
    Column("invitee_id", Integer, nullable=True),
    Column("subject", String(300), nullable=False, server_default=""),
    Column("body", Text, nullable=True),  # None: rendered when sent, from the reservation then
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(300), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("paid", Boolean, nullable=False, server_default=false()),  # R26: SMS notices
)
PENDING = text("status = 'pending'")
Index("ix_outbox_due", outbox.c.due_at, sqlite_where=PENDING, postgresql_where=PENDING)
Index("ix_outbox_reservation", outbox.c.reservation_id)

# R46: the invitation e-mail of a reservation, editable by its organizer before it is sent.
invitations = Table(
    "invitations",
    metadata,
    Column("reservation_id", Integer, ForeignKey("reservations.id"), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("edited_at", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
)
