"""Dial-out calls in the store: durable, so a controller restart neither loses nor repeats one.

Each call also keeps its profile, so the caps count a profile's calls in one index range.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    exists,
    insert,
    select,
    text,
    update,
)

from booking.domain.dialout import CallState, DialCall, DialCallDraft, Outcome, Requester
from booking.domain.model import ReservationStatus
from booking.store.tables import UtcDateTime, metadata, profiles, reservations

dialout_calls = Table(
    "dialout_calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reservation_id", Integer, ForeignKey("reservations.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("next_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_outcome", String(16), nullable=False, server_default=""),
    Column("requested_by", String(12), nullable=False, server_default="schedule"),
    Column("uniqueid", String(64), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("profile_id", Integer, ForeignKey("profiles.id", name="fk_dialout_calls_profile"), nullable=False),
)
# The caps: a reservation's and a profile's calls of the last day (also the reservation's list).
Index("ix_dialout_reservation_created", dialout_calls.c.reservation_id, dialout_calls.c.created_at)
Index("ix_dialout_profile_created", dialout_calls.c.profile_id, dialout_calls.c.created_at)
ACTIVE = text("state IN ('pending', 'calling', 'answered')")
Index("ix_dialout_due", dialout_calls.c.next_at, sqlite_where=ACTIVE, postgresql_where=ACTIVE)

FIELDS = tuple(f.name for f in dataclasses.fields(DialCall))


def _call(row: Any) -> DialCall:
    values = {name: getattr(row, name) for name in FIELDS}
    return DialCall(
        **{
            **values,
            "state": CallState(row.state),
            "last_outcome": Outcome(row.last_outcome) if row.last_outcome else None,
            "requested_by": Requester(row.requested_by),
        }
    )


def _row(call: DialCallDraft) -> dict[str, Any]:
    """The call's columns (no id): enums as their values, no outcome as ''."""
    values = {f.name: getattr(call, f.name) for f in dataclasses.fields(DialCallDraft)}
    return {**values, "last_outcome": call.last_outcome.value if call.last_outcome else ""}


class DialOutRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, call: DialCallDraft, now: datetime, profile_id: int) -> DialCall:
        result = self.conn.execute(
            insert(dialout_calls).values(**_row(call), created_at=now, profile_id=profile_id)
        )
        key = result.inserted_primary_key
        assert key is not None
        return DialCall(**{f.name: getattr(call, f.name) for f in dataclasses.fields(call)}, id=int(key[0]))

    def put(self, call: DialCall) -> None:
        self.conn.execute(update(dialout_calls).where(dialout_calls.c.id == call.id).values(**_row(call)))

    def get(self, call_id: int) -> DialCall | None:
        row = self.conn.execute(select(dialout_calls).where(dialout_calls.c.id == call_id)).first()
        return None if row is None else _call(row)

    def for_reservation(self, reservation_id: int) -> list[DialCall]:
        q = (
            select(dialout_calls)
            .where(dialout_calls.c.reservation_id == reservation_id)
            .order_by(dialout_calls.c.id)
        )
        return [_call(r) for r in self.conn.execute(q)]

    def due(self, now: datetime) -> list[DialCall]:
        q = (
            select(dialout_calls)
            .where(dialout_calls.c.state == CallState.PENDING.value, dialout_calls.c.next_at <= now)
            .order_by(dialout_calls.c.next_at, dialout_calls.c.id)
        )
        return [_call(r) for r in self.conn.execute(q)]

    def in_flight(self) -> list[DialCall]:
        q = select(dialout_calls).where(
            dialout_calls.c.state.in_([CallState.CALLING.value, CallState.ANSWERED.value])
        )
        return [_call(r) for r in self.conn.execute(q)]

    def ringing_or_due(self, reservation_id: int, number: str) -> DialCall | None:
        """The reservation's call to ``number`` that is still under way, if any."""
        q = select(dialout_calls).where(
            dialout_calls.c.reservation_id == reservation_id,
            dialout_calls.c.number == number,
            dialout_calls.c.state.in_(
                [CallState.PENDING.value, CallState.CALLING.value, CallState.ANSWERED.value]
            ),
        )
        row = self.conn.execute(q).first()
        return None if row is None else _call(row)

    def starts_due(self, now: datetime) -> list[int]:
        """Dial-out reservations whose start has come and whose invitees were never planned."""
        scheduled = exists().where(
            and_(
                dialout_calls.c.reservation_id == reservations.c.id,
                dialout_calls.c.requested_by == Requester.SCHEDULE.value,
            )
        )
        q = select(reservations.c.id).where(
            reservations.c.dial_out,
            reservations.c.status == ReservationStatus.ACTIVE.value,
            reservations.c.starts_at <= now,
            reservations.c.ends_at > now,
            ~scheduled,
        )
        return [int(rid) for rid in self.conn.execute(q).scalars()]

    def lock_profile(self, profile_id: int) -> None:
        """Serialise one profile's dial-out requests, so two at once cannot both pass a cap.
        SQLite's writers already take turns (BEGIN IMMEDIATE); PostgreSQL locks the row."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(profiles.c.id).where(profiles.c.id == profile_id).with_for_update())

    def reservation_calls_since(self, reservation_id: int, since: datetime) -> list[tuple[datetime, bool]]:
        """(created at, asked for by a moderator or the web) of the reservation's calls."""
        q = select(dialout_calls.c.created_at, dialout_calls.c.requested_by).where(
            dialout_calls.c.reservation_id == reservation_id, dialout_calls.c.created_at > since
        )
        schedule = Requester.SCHEDULE.value
        return [(row.created_at, row.requested_by != schedule) for row in self.conn.execute(q)]

    def profile_calls_since(self, profile_id: int, since: datetime) -> list[datetime]:
        q = select(dialout_calls.c.created_at).where(
            dialout_calls.c.profile_id == profile_id, dialout_calls.c.created_at > since
        )
        return list(self.conn.execute(q).scalars())
