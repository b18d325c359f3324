"""Rows in, domain objects out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, insert, select

from booking.domain.model import Reservation, ReservationKind, Room
from booking.store.tables import profiles, reservations, rooms


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
    )


class Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def profile_id(self, name: str, now: datetime) -> int:
        """The id of a profile by name, created on first use."""
        found = self.find_profile(name)
        if found is not None:
            return found
        return _new_id(self.conn.execute(insert(profiles).values(name=name, created_at=now)))

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

    def add_reservation(self, r: Reservation, now: datetime) -> Reservation:
        assert r.room.id is not None
        res = self.conn.execute(
            insert(reservations).values(
                room_id=r.room.id,
                kind=r.kind.value,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                seats=r.seats,
                created_at=now,
            )
        )
        return Reservation(**{**r.__dict__, "id": _new_id(res)})

    def find_profile(self, name: str) -> int | None:
        found = self.conn.execute(select(profiles.c.id).where(profiles.c.name == name)).scalar()
        return None if found is None else int(found)

    def reservations_for_profile(self, profile_id: int) -> list[Reservation]:
        return [
            _reservation(row)
            for row in self.conn.execute(self._joined().where(rooms.c.profile_id == profile_id))
        ]

    def _joined(self) -> Any:
        return (
            select(
                reservations, rooms.c.profile_id, rooms.c.conference_number, rooms.c.pin, rooms.c.admin_pin
            )
            .join(rooms, rooms.c.id == reservations.c.room_id)
            .where(rooms.c.deleted_at.is_(None))
            .where(reservations.c.status == "active")
            .order_by(reservations.c.starts_at)
        )

    def reservations_for_number(self, conference_number: str) -> list[Reservation]:
        """Active reservations of the live room with this number, earliest first."""
        q = self._joined().where(rooms.c.conference_number == conference_number)
        return [_reservation(row) for row in self.conn.execute(q)]
