"""Tables of rating and billing (issue 7). Migration 0007 creates them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, false
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from booking.store.tables import UtcDateTime, metadata


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimals kept as their text: exact on SQLite too (its NUMERIC is a float)."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


# Every tariff file ever loaded (R62: prices change, and a month is re-rated after a fix):
# the newest is in force. The text is the data; booking/domain/tariff_file.py reads it.
tariff_versions = Table(
    "tariff_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("text", Text, nullable=False),
)

# The organizer's plan per profile (R51); a profile without a row is on the default plan.
account_plans = Table(
    "account_plans",
    metadata,
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("plan", String(40), nullable=False),
)

# One row per closed usage leg and its rating; re-rating rewrites only rows whose result changed.
rated_legs = Table(
    "rated_legs",
    metadata,
    Column("uniqueid", String(64), primary_key=True),
    Column("month", String(7), nullable=False),
    Column("profile_id", Integer, nullable=True),
    Column("reservation_id", Integer, nullable=True),
    Column("session_id", String(64), nullable=True),
    Column("seconds", Integer, nullable=False),
    Column("caller_rule", String(200), nullable=False),
    Column("caller_billed_s", Integer, nullable=False),
    Column("caller_net", ExactDecimal, nullable=False),
    Column("caller_gross", ExactDecimal, nullable=False),
    Column("plan", String(40), nullable=False),
    Column("billed_s", Integer, nullable=False),
    Column("net", ExactDecimal, nullable=False),
    Column("outbound", Boolean, nullable=False, server_default=false()),
    Column("tariff_version", Integer, nullable=False),
    Column("rated_at", UtcDateTime, nullable=False),
)
Index("ix_rated_legs_month", rated_legs.c.month, rated_legs.c.profile_id)
