"""Rows in, domain objects out. Every method runs inside the caller's unit of work."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Select, func, insert, select, text, update

from booking.domain.capacity import Booked
from booking.domain.model import Profile, Reservation, ReservationKind, ReservationStatus, Room
from booking.store.tables import profiles, reservations, rooms

# Any constant: the key of the PostgreSQL advisory lock that serialises capacity writers.
CAPACITY_LOCK_KEY = 0x44434150  # "DCAP"
HOLDING = (ReservationStatus.ACTIVE.value, ReservationStatus.PENDING.value)


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _room(row: Any) -> Room:
    return Room(
        id=row.room_id,
        profile_id=row.profile_id,
        conference_number=row.conference_number,
        pin=row.pin,
        admin_pin=row.admin_pin,
    )


def _reservation(row: Any) -> Reservation:
    return Reservation(
        id=row.id,
        room=_room(row),
        kind=ReservationKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        seats=row.seats,
        status=ReservationStatus(row.status),
        max_participants=row.max_participants,
        title=row.title,
        note=row.note,
    )


def _profile(row: Any) -> Profile:
    return Profile(id=row.id, name=row.name, language=row.language)


class Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- concurrency ------------------------------------------------------------------

    def lock_capacity(self) -> None:
        """Serialise capacity writers for the rest of this transaction.

        SQLite writers already hold the database write lock from BEGIN IMMEDIATE; PostgreSQL
        takes a transaction-scoped advisory lock, released at commit or rollback.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CAPACITY_LOCK_KEY})

    # --- profiles ---------------------------------------------------------------------

    def find_profile(self, name: str) -> int | None:
        found = self.conn.execute(select(profiles.c.id).where(profiles.c.name == name)).scalar()
        return None if found is None else int(found)

    def profile_id(self, name: str, now: datetime) -> int:
        """The id of a profile by name, created on first use."""
        found = self.find_profile(name)
        if found is not None:
            return found
        return _new_id(self.conn.execute(insert(profiles).values(name=name, created_at=now)))

    def add_profile(self, name: str, language: str, token_hash: str, now: datetime) -> Profile:
        res = self.conn.execute(
            insert(profiles).values(name=name, language=language, token_hash=token_hash, created_at=now)
        )
        return Profile(_new_id(res), name, language)

    def set_token(self, profile_id: int, token_hash: str) -> None:
        self.conn.execute(update(profiles).where(profiles.c.id == profile_id).values(token_hash=token_hash))

    def profile_by_token(self, token_hash: str) -> Profile | None:
        row = self.conn.execute(select(profiles).where(profiles.c.token_hash == token_hash)).first()
        return None if row is None else _profile(row)

    def get_profile(self, profile_id: int) -> Profile | None:
        row = self.conn.execute(select(profiles).where(profiles.c.id == profile_id)).first()
        return None if row is None else _profile(row)

    # --- rooms ------------------------------------------------------------------------

    def live_numbers(self) -> set[str]:
        q = select(rooms.c.conference_number).where(rooms.c.deleted_at.is_(None))
        return set(self.conn.execute(q).scalars())

    def add_room(self, room: Room, now: datetime) -> Room:
        res = self.conn.execute(
            insert(rooms).values(
                profile_id=room.profile_id,
                conference_number=room.conference_number,
                pin=room.pin,
                admin_pin=room.admin_pin,
                created_at=now,
            )
        )
        return Room(**{**room.__dict__, "id": _new_id(res)})

    def release_room(self, room_id: int, now: datetime) -> None:
        self.conn.execute(
            update(rooms).where(rooms.c.id == room_id, rooms.c.deleted_at.is_(None)).values(deleted_at=now)
        )

    def release_expired_rooms(self, before: datetime, now: datetime) -> None:
        """Free the numbers of rooms whose reservation ended before ``before`` or was refused."""
        done = select(reservations.c.room_id).where(
            (reservations.c.ends_at < before)
            | reservations.c.status.in_([ReservationStatus.REJECTED.value, ReservationStatus.DELETED.value])
        )
        self.conn.execute(
            update(rooms).where(rooms.c.deleted_at.is_(None), rooms.c.id.in_(done)).values(deleted_at=now)
        )

    # --- reservations -----------------------------------------------------------------

    def add_reservation(self, r: Reservation, now: datetime) -> Reservation:
        assert r.room.id is not None
        res = self.conn.execute(
            insert(reservations).values(
                room_id=r.room.id,
                kind=r.kind.value,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                seats=r.seats,
                status=r.status.value,
                max_participants=r.max_participants,
                title=r.title,
                note=r.note,
                created_at=now,
            )
        )
        return Reservation(**{**r.__dict__, "id": _new_id(res)})

    def update_reservation(self, r: Reservation) -> None:
        assert r.id is not None
        self.conn.execute(
            update(reservations)
            .where(reservations.c.id == r.id)
            .values(
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                seats=r.seats,
                status=r.status.value,
                max_participants=r.max_participants,
                title=r.title,
                note=r.note,
            )
        )

    def _joined(self) -> Select[Any]:
        return select(
            reservations,
            rooms.c.profile_id,
            rooms.c.conference_number,
            rooms.c.pin,
            rooms.c.admin_pin,
        ).join(rooms, rooms.c.id == reservations.c.room_id)

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        row = self.conn.execute(self._joined().where(reservations.c.id == reservation_id)).first()
        return None if row is None else _reservation(row)

    def reservations_for_profile(self, profile_id: int) -> list[Reservation]:
        q = (
            self._joined()
            .where(rooms.c.profile_id == profile_id)
            .where(reservations.c.status.in_(HOLDING))
            .order_by(reservations.c.starts_at, reservations.c.id)
        )
        return [_reservation(row) for row in self.conn.execute(q)]

    def count_active(self, profile_id: int, now: datetime) -> int:
        """R27: reservations that take one of the profile's slots (not ended, not deleted)."""
        q = (
            select(func.count())
            .select_from(reservations.join(rooms, rooms.c.id == reservations.c.room_id))
            .where(rooms.c.profile_id == profile_id)
            .where(reservations.c.status.in_(HOLDING))
            .where(reservations.c.ends_at.is_(None) | (reservations.c.ends_at > now))
        )
        return int(self.conn.execute(q).scalar() or 0)

    def pending(self) -> list[Reservation]:
        q = (
            self._joined()
            .where(reservations.c.status == ReservationStatus.PENDING.value)
            .order_by(reservations.c.id)
        )
        return [_reservation(row) for row in self.conn.execute(q)]

    def reservations_for_number(self, conference_number: str) -> list[Reservation]:
        """Confirmed reservations of the live room with this number, earliest first."""
        q = (
            self._joined()
            .where(rooms.c.conference_number == conference_number)
            .where(rooms.c.deleted_at.is_(None))
            .where(reservations.c.status == ReservationStatus.ACTIVE.value)
            .order_by(reservations.c.starts_at)
        )
        return [_reservation(row) for row in self.conn.execute(q)]

    def booked_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> list[Booked]:
        """Seats held by confirmed bookings overlapping [start, end).

        A booking that overlaps starts before ``end`` and, being at most ``longest`` long,
        after ``start - longest``: an index range, so the cost follows nearby bookings only.
        """
        q = select(reservations.c.starts_at, reservations.c.ends_at, reservations.c.seats).where(
            reservations.c.status == ReservationStatus.ACTIVE.value,
            reservations.c.starts_at >= start - longest,
            reservations.c.starts_at < end,
            reservations.c.ends_at > start,
        )
        if exclude is not None:
            q = q.where(reservations.c.id != exclude)
        return [Booked(r.starts_at, r.ends_at, r.seats) for r in self.conn.execute(q)]
