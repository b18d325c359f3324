"""Tables of the month-end run (R51) and of e-mail attachments. Migration 0017 creates them
(and the profiles' ``mail_address`` and ``mail_reports`` columns, in tables.py)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Table

from booking.store.billing_tables import ExactDecimal
from booking.store.tables import UtcDateTime, metadata

# One row per billed month: a run not finished is resumed by the next (a crash mid-run).
month_end_runs = Table(
    "month_end_runs",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("revision", Integer, nullable=False),  # each deliberate re-run adds one
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("statements", Integer, nullable=False, server_default="0"),
    Column("mailed", Integer, nullable=False, server_default="0"),
)

# Per organizer and month, the revision whose statement was built and its e-mail queued (both
# in one transaction): what a resumed run skips.
month_end_statements = Table(
    "month_end_statements",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("built_at", UtcDateTime, nullable=False),
    Column("net", ExactDecimal, nullable=False),
    Column("gross", ExactDecimal, nullable=False),
    Column("recipient", String(254), nullable=True),
)

# Files sent with an outbox e-mail (the statement's PDF and CSV), by the outbox row's key:
# written with the row, so the dispatcher sends exactly what the run built.
outbox_attachments = Table(
    "outbox_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_key", String(200), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
)
Index("ix_outbox_attachments_key", outbox_attachments.c.message_key)
