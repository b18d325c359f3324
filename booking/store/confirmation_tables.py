"""E-mail orders waiting for their one-time code, and the indexes the abuse limits read.
Migration 0011 creates them."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from booking.store.messaging_tables import inbound_messages, senders
from booking.store.tables import UtcDateTime, metadata

# An order or cancel by e-mail acts only once its From address sent back the code it was
# mailed (a forger never sees it). Only a salted digest of the code is kept.
confirmations = Table(
    "confirmations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("address", String(254), nullable=False),
    Column("command", String(500), nullable=False),  # the order or cancel text to carry out
    Column("language", String(8), nullable=False),
    Column("code_salt", String(32), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("requested_by", String(200), nullable=False),  # the message that asked (its id)
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("wrong_codes", Integer, nullable=False, server_default="0"),
    Column("state", String(12), nullable=False, server_default="waiting"),  # waiting | used | void
    Column("used_at", UtcDateTime, nullable=True),
)
Index("ix_confirmations_address", confirmations.c.channel, confirmations.c.address, confirmations.c.state)

# The new-sender limits count senders created in the last hour, per channel (and domain).
Index("ix_senders_created", senders.c.channel, senders.c.created_at)
# The flood refusal is answered once an hour whoever sent it: counted by outcome, not sender.
Index(
    "ix_inbound_outcome",
    inbound_messages.c.channel,
    inbound_messages.c.outcome,
    inbound_messages.c.received_at,
)
