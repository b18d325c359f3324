"""Usage legs in the store: written once per Asterisk unique id, closed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    false,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from booking.domain.model import ReservationStatus, Role
from booking.domain.usage import EndReason, Leg
from booking.store.tables import UtcDateTime, metadata, reservations

usage_legs = Table(
    "usage_legs",
    metadata,
    Column("uniqueid", String(64), primary_key=True),
    Column("conference_number", String(12), nullable=False),
    Column("reservation_id", Integer, nullable=True),
    Column("session_id", String(64), nullable=True),
    Column("caller_number", String(32), nullable=False, server_default=""),
    Column("mobile", Boolean, nullable=False, server_default=false()),
    Column("role", String(16), nullable=False, server_default="participant"),
    Column("name_file", String(255), nullable=True),
    Column("joined_at", UtcDateTime, nullable=False),
    Column("left_at", UtcDateTime, nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("access_number", String(32), nullable=False, server_default=""),
    Column("outbound", Boolean, nullable=False, server_default=false()),
    Column("language", String(8), nullable=False, server_default=""),
    Column("cap_warned_at", UtcDateTime, nullable=True),
    # Joined from a browser (issue 20, migration 0018), with the name typed on the page.
    Column("web", Boolean, nullable=False, server_default=false()),
    Column("display_name", String(60), nullable=False, server_default=""),
    # The media node the member is mixed on (issue 21, migration 0019; '' a single node).
    Column("node", String(32), nullable=False, server_default=""),
)
Index("ix_usage_legs_reservation", usage_legs.c.reservation_id, usage_legs.c.joined_at)
# A caller number's history in a reservation (the PIN guard's known callers).
Index("ix_usage_legs_caller", usage_legs.c.reservation_id, usage_legs.c.caller_number, usage_legs.c.role)
# Recorded names by when their leg ended, for the retention sweep.
Index(
    "ix_usage_legs_names",
    usage_legs.c.left_at,
    sqlite_where=text("name_file IS NOT NULL"),
    postgresql_where=text("name_file IS NOT NULL"),
)
# Open legs, for the reconcile after a restart.
Index(
    "ix_usage_legs_open",
    usage_legs.c.conference_number,
    sqlite_where=text("left_at IS NULL"),
    postgresql_where=text("left_at IS NULL"),
)


def _leg(row: Any) -> Leg:
    return Leg(
        uniqueid=row.uniqueid,
        conference_number=row.conference_number,
        reservation_id=row.reservation_id,
        session_id=row.session_id,
        caller_number=row.caller_number,
        mobile=row.mobile,
        role=Role(row.role),
        name_file=row.name_file,
        joined_at=row.joined_at,
        left_at=row.left_at,
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
        access_number=row.access_number,
        outbound=row.outbound,
        language=row.language,
        cap_warned_at=row.cap_warned_at,
        web=row.web,
        display_name=row.display_name,
        node=row.node,
    )


class UsageRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open(self, leg: Leg) -> bool:
        """Insert a leg unless its unique id is already there (replays are harmless)."""
        if self.get(leg.uniqueid) is not None:
            return False
        values = {k: v for k, v in leg.__dict__.items() if k not in {"left_at", "end_reason"}}
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(usage_legs).values(**values))
        except IntegrityError:
            return False  # a concurrent writer recorded it first
        return True

    def close(self, uniqueid: str, at: datetime, reason: EndReason) -> bool:
        """Close an open leg; a leg already closed keeps its first end."""
        done = self.conn.execute(
            update(usage_legs)
            .where(usage_legs.c.uniqueid == uniqueid, usage_legs.c.left_at.is_(None))
            .values(left_at=at, end_reason=reason)
        )
        return bool(done.rowcount)

    def get(self, uniqueid: str) -> Leg | None:
        row = self.conn.execute(select(usage_legs).where(usage_legs.c.uniqueid == uniqueid)).first()
        return None if row is None else _leg(row)

    def open_legs(self, node: str | None = None) -> list[Leg]:
        """The open legs, of one media node's members (``node``) or of all (None)."""
        q = select(usage_legs).where(usage_legs.c.left_at.is_(None)).order_by(usage_legs.c.joined_at)
        if node is not None:
            q = q.where(usage_legs.c.node == node)
        return [_leg(r) for r in self.conn.execute(q)]

    def roles_of(self, reservation_id: int, caller_number: str) -> set[Role]:
        """The roles this caller number joined the reservation in (one index range)."""
        q = (
            select(usage_legs.c.role)
            .where(usage_legs.c.reservation_id == reservation_id, usage_legs.c.caller_number == caller_number)
            .group_by(usage_legs.c.role)
        )
        return {Role(role) for role in self.conn.execute(q).scalars()}

    def for_reservation(self, reservation_id: int) -> list[Leg]:
        q = (
            select(usage_legs)
            .where(usage_legs.c.reservation_id == reservation_id)
            .order_by(usage_legs.c.joined_at, usage_legs.c.uniqueid)
        )
        return [_leg(r) for r in self.conn.execute(q)]

    def mark_cap_warned(self, uniqueid: str, at: datetime) -> bool:
        """The caller heard the mobile cap's warning (once: a second mark keeps the first)."""
        done = self.conn.execute(
            update(usage_legs)
            .where(usage_legs.c.uniqueid == uniqueid, usage_legs.c.cap_warned_at.is_(None))
            .values(cap_warned_at=at)
        )
        return bool(done.rowcount)

    def recorded_name(self, reservation_id: int, caller_number: str) -> str | None:
        """The name this caller number last recorded in the reservation (one index range)."""
        q = (
            select(usage_legs.c.name_file)
            .where(
                usage_legs.c.reservation_id == reservation_id,
                usage_legs.c.caller_number == caller_number,
                usage_legs.c.name_file.is_not(None),
            )
            .order_by(usage_legs.c.joined_at.desc())
            .limit(1)
        )
        return self.conn.execute(q).scalar_one_or_none()

    def name_files(self, reservation_id: int) -> list[str]:
        """Every recorded name a reservation's legs refer to (deleted with the reservation)."""
        q = select(usage_legs.c.name_file).where(
            usage_legs.c.reservation_id == reservation_id, usage_legs.c.name_file.is_not(None)
        )
        return [n for n in self.conn.execute(q).scalars() if n]

    def expired_names(self, left_before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(unique id, name file) of the recorded names to delete: every one of a reservation
        deleted or refused, and every one whose leg ended before ``left_before``."""
        gone = select(reservations.c.id).where(
            reservations.c.status.in_([ReservationStatus.DELETED.value, ReservationStatus.REJECTED.value])
        )
        u = usage_legs.c
        q = (
            select(u.uniqueid, u.name_file)
            .where(u.name_file.is_not(None), u.left_at.is_not(None))
            .where(or_(u.left_at < left_before, u.reservation_id.in_(gone)))
            .order_by(u.left_at)
            .limit(limit)
        )
        return [(uid, name) for uid, name in self.conn.execute(q)]

    def forget_names(self, uniqueids: list[str]) -> int:
        """The legs' recorded names were deleted from disk."""
        if not uniqueids:
            return 0
        q = update(usage_legs).where(usage_legs.c.uniqueid.in_(uniqueids)).values(name_file=None)
        return int(self.conn.execute(q).rowcount)
