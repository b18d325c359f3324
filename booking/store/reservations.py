"""Rows in, domain objects out. Every method runs inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Integer,
    Select,
    String,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from booking.domain.account_plans import AccountPlan
from booking.domain.bounds import STORE_INT_MAX
from booking.domain.capacity import Booked
from booking.domain.model import (
    Profile,
    Reservation,
    ReservationDraft,
    ReservationKind,
    ReservationStatus,
    Room,
    RoomDraft,
)
from booking.store import capacity_reads
from booking.store.capacity_reads import LedgerReads
from booking.store.ledger import SlotLedger
from booking.store.tables import (
    RELEASE_AT_ONCE,
    UtcDateTime,
    profiles,
    reservations,
    rooms,
    span_class,
)

# Any constant: the key of the PostgreSQL advisory lock that serialises capacity writers.
CAPACITY_LOCK_KEY = 0x44434150  # "DCAP"
HOLDING = (ReservationStatus.ACTIVE.value, ReservationStatus.PENDING.value)
RELEASED = (ReservationStatus.REJECTED, ReservationStatus.DELETED)


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
        dial_out=row.dial_out,
        record=row.record,
        wait_for_moderator=row.wait_for_moderator,
        end_with_moderator=row.end_with_moderator,
    )


def _profile(row: Any) -> Profile:
    plan = AccountPlan(row.account_plan)
    return Profile(id=row.id, name=row.name, language=row.language, account_plan=plan)


def _held(r: ReservationDraft) -> Booked | None:
    """The seats a reservation holds in the ledger: a confirmed, timed one's."""
    if r.status is not ReservationStatus.ACTIVE or r.starts_at is None or r.ends_at is None:
        return None
    return Booked(r.starts_at, r.ends_at, r.seats)


class ReservationRepository(LedgerReads):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ledger = SlotLedger(conn)
        self._locked = False

    # --- concurrency ------------------------------------------------------------------

    def lock_capacity(self) -> None:
        """Serialise capacity writers for the rest of this transaction.

        SQLite writers already hold the database write lock from BEGIN IMMEDIATE; PostgreSQL
        takes a transaction-scoped advisory lock, released at commit or rollback.
        """
        if self._locked:
            return
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CAPACITY_LOCK_KEY})
        self._locked = True

    # --- profiles ---------------------------------------------------------------------

    def find_profile(self, name: str) -> int | None:
        found = self.conn.execute(select(profiles.c.id).where(profiles.c.name == name)).scalar()
        return None if found is None else int(found)

    def profile_id(self, name: str, now: datetime) -> int:
        """The id of a profile by name, created on first use.

        Writers racing to create the same name all get the one row: the insert yields to a
        concurrent one (ON CONFLICT DO NOTHING; PostgreSQL waits for the other transaction) and
        the id is read back after it.
        """
        found = self.find_profile(name)
        if found is not None:
            return found
        dialect = self.conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            ins = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = (
                ins(profiles)
                .values(name=name, created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            self.conn.execute(stmt)
        else:
            self.conn.execute(insert(profiles).values(name=name, created_at=now))
        found = self.find_profile(name)
        assert found is not None
        return found

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
        if not 1 <= profile_id <= STORE_INT_MAX:  # no such row, and binding it would overflow
            return None
        row = self.conn.execute(select(profiles).where(profiles.c.id == profile_id)).first()
        return None if row is None else _profile(row)

    def set_account_plan(self, profile_id: int, plan: AccountPlan) -> None:
        q = update(profiles).where(profiles.c.id == profile_id).values(account_plan=plan.value)
        self.conn.execute(q)

    def profiles_on_plan(self, plan: AccountPlan, limit: int) -> list[Profile]:
        q = select(profiles).where(profiles.c.account_plan == plan.value)
        q = q.order_by(profiles.c.name).limit(limit)
        return [_profile(row) for row in self.conn.execute(q)]

    # --- rooms ------------------------------------------------------------------------

    def live_numbers(self) -> Container[str]:
        """The numbers of live rooms, asked one at a time (``number in live_numbers``): a probe
        of the unique index, instead of reading every live number for each new room."""
        return _LiveNumbers(self.conn)

    def add_room(self, room: RoomDraft, now: datetime) -> Room:
        res = self.conn.execute(
            _INSERT_ROOM,
            {
                "profile_id": room.profile_id,
                "conference_number": room.conference_number,
                "pin": room.pin,
                "admin_pin": room.admin_pin,
                "created_at": now,
            },
        )
        return Room(**{**room.__dict__, "id": _new_id(res)})

    def release_room(self, room_id: int, now: datetime) -> None:
        self.conn.execute(
            update(rooms).where(rooms.c.id == room_id, rooms.c.deleted_at.is_(None)).values(deleted_at=now)
        )

    def release_expired_rooms(self, before: datetime, now: datetime) -> None:
        """Free the numbers of rooms whose reservation ended before ``before`` or was refused
        or deleted: a range on the live rooms' ``releasable_at`` (ix_rooms_releasable)."""
        self.conn.execute(_RELEASE_EXPIRED, {"before": before, "now": now})

    def _set_releasable(self, r: ReservationDraft) -> None:
        at = RELEASE_AT_ONCE if r.status in RELEASED else r.ends_at
        self.conn.execute(_SET_RELEASABLE, {"room": r.room.id, "at": at})

    # --- reservations -----------------------------------------------------------------

    def add_reservation(self, r: ReservationDraft, now: datetime) -> Reservation:
        res = self.conn.execute(
            _INSERT_RESERVATION,
            {
                "room_id": r.room.id,
                "kind": r.kind.value,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
                "seats": r.seats,
                "status": r.status.value,
                "max_participants": r.max_participants,
                "title": r.title,
                "note": r.note,
                "dial_out": r.dial_out,
                "record": r.record,
                "wait_for_moderator": r.wait_for_moderator,
                "end_with_moderator": r.end_with_moderator,
                "created_at": now,
                "span_class": span_class(r.starts_at, r.ends_at),
            },
        )
        self._set_releasable(r)
        made = Reservation(**{**r.__dict__, "id": _new_id(res)})
        held = _held(made)
        if held is not None:  # the ledger, in the same transaction (store.ledger)
            self.lock_capacity()
            self.ledger.changed(None, held)
        return made

    def update_reservation(self, r: Reservation) -> None:
        """The reservation's row, and the ledger if the seats it holds changed (under the
        capacity lock, taken before any row is written)."""
        old = self.conn.execute(_HELD_BY, {"id": r.id}).first()
        before = (
            Booked(old.starts_at, old.ends_at, old.seats)
            if old is not None
            and old.status == ReservationStatus.ACTIVE.value
            and old.starts_at
            and old.ends_at
            else None
        )
        after = _held(r) if old is not None else None
        if before != after:
            self.lock_capacity()
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
                dial_out=r.dial_out,
                record=r.record,
                wait_for_moderator=r.wait_for_moderator,
                end_with_moderator=r.end_with_moderator,
                span_class=span_class(r.starts_at, r.ends_at),
            )
        )
        self._set_releasable(r)
        if before != after:
            self.ledger.changed(before, after)

    def _joined(self) -> Select[Any]:
        return select(
            reservations,
            rooms.c.profile_id,
            rooms.c.conference_number,
            rooms.c.pin,
            rooms.c.admin_pin,
        ).join(rooms, rooms.c.id == reservations.c.room_id)

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        if not 1 <= reservation_id <= STORE_INT_MAX:  # no such row, and binding it would overflow
            return None
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
        """R27: reservations that take one of the profile's slots (not ended, not deleted).

        Read from the profile's rooms alone: a room's ``releasable_at`` is its reservation's end
        while the reservation holds (NULL for an anytime room), and long past once it is refused
        or deleted. An index range (ix_rooms_profile) over the rooms not yet ended, whatever the
        profile's history and whatever plan a prepared statement gets.
        """
        return int(self.conn.execute(_COUNT_ACTIVE, {"profile": profile_id, "now": now}).scalar() or 0)

    def pending(self) -> list[Reservation]:
        q = (
            self._joined()
            # A literal, not a parameter: the planner may then use the partial index.
            .where(reservations.c.status == literal_column(f"'{ReservationStatus.PENDING.value}'"))
            .order_by(reservations.c.id)
        )
        return [_reservation(row) for row in self.conn.execute(q)]

    def reservations_for_number(self, conference_number: str) -> list[Reservation]:
        """Confirmed reservations of the live room with this number, earliest first."""
        rows = self.conn.execute(_RESERVATIONS_FOR_NUMBER, {"number": conference_number})
        return [_reservation(row) for row in rows]

    def booked_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> list[Booked]:
        """Seats held by confirmed bookings overlapping [start, end) (store.capacity_reads)."""
        return capacity_reads.booked_overlapping(self.conn, start, end, longest, exclude)

    def seats_overlapping(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        """Every seat of the confirmed bookings overlapping [start, end), summed: never less than
        the peak within the window (store.capacity_reads)."""
        return capacity_reads.seats_overlapping(self.conn, start, end, longest, exclude)

    def peak_reserved(
        self, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
    ) -> int:
        """Exactly the most seats confirmed bookings hold at once within [start, end)
        (store.capacity_reads)."""
        return capacity_reads.peak_reserved(self.conn, start, end, longest, exclude)


# The statements of every booking, built once with their cache keys: building one costs about
# as much as running it.
_INSERT_ROOM = insert(rooms)
_HELD_BY = select(
    reservations.c.status, reservations.c.starts_at, reservations.c.ends_at, reservations.c.seats
).where(reservations.c.id == bindparam("id", type_=Integer()))
_INSERT_RESERVATION = insert(reservations)
_COUNT_ACTIVE = (
    select(func.count())
    .select_from(rooms)
    .where(rooms.c.profile_id == bindparam("profile", type_=Integer()))
    .where(rooms.c.releasable_at.is_(None) | (rooms.c.releasable_at > bindparam("now", type_=UtcDateTime())))
)
_RELEASE_EXPIRED = (
    update(rooms)
    .where(rooms.c.deleted_at.is_(None), rooms.c.releasable_at < bindparam("before", type_=UtcDateTime()))
    .values(deleted_at=bindparam("now", type_=UtcDateTime()))
)
_SET_RELEASABLE = (
    update(rooms)
    .where(rooms.c.id == bindparam("room", type_=Integer()))
    .values(releasable_at=bindparam("at", type_=UtcDateTime()))
)
_LIVE_NUMBER = (
    select(rooms.c.id)
    .where(rooms.c.conference_number == bindparam("number", type_=String()), rooms.c.deleted_at.is_(None))
    .limit(1)
)


class _LiveNumbers(Container[str]):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __contains__(self, number: object) -> bool:
        return self._conn.execute(_LIVE_NUMBER, {"number": number}).first() is not None


# Every caller's two lookups (the IVR's conference number, then its PIN check), built once.
_RESERVATIONS_FOR_NUMBER = (
    select(reservations, rooms.c.profile_id, rooms.c.conference_number, rooms.c.pin, rooms.c.admin_pin)
    .join(rooms, rooms.c.id == reservations.c.room_id)
    .where(rooms.c.conference_number == bindparam("number", type_=String()))
    .where(rooms.c.deleted_at.is_(None))
    .where(reservations.c.status == ReservationStatus.ACTIVE.value)
    .order_by(reservations.c.starts_at)
)
