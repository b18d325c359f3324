"""The capacity reads: the capacity ledger's (``LedgerReads``, what the booking service checks:
booking.store.ledger), and the seats confirmed bookings hold near a window (R7; the dashboard's
and the benchmark's sweep before the ledger), each a UNION ALL of one index range per length
class (ix_reservations_capacity), built once with its cache key. ReservationRepository hands
them out; they run inside the caller's unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    DateTime,
    Integer,
    Select,
    bindparam,
    func,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.types import NULLTYPE

from booking.domain import capacity
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks
from booking.domain.model import ReservationStatus
from booking.store.ledger import SlotLedger
from booking.store.tables import SPAN_CLASSES, UtcDateTime, reservations, span_limit


class LedgerReads:
    """The capacity ledger's reads, as the Reservations port names them."""

    ledger: SlotLedger

    def ensure_ledger(self, slot: timedelta) -> None:
        """The ledger kept in slots of ``slot`` (rebuilt if kept in others)."""
        self.ledger.ensure(slot)

    def ledger_peak(self, start: datetime, end: datetime, exclude: int | None = None) -> int:
        """Exactly the most seats confirmed bookings hold at once within [start, end), from the
        window's own slots."""
        return self.ledger.window_peak(start, end, exclude)[0]

    def ledger_busiest(
        self, start: datetime, end: datetime, exclude: int | None = None
    ) -> tuple[int, datetime]:
        """That peak, and the first instant it is held."""
        return self.ledger.window_peak(start, end, exclude, instant=True)

    def ledger_slots(
        self, start: datetime, end: datetime, exclude: int | None = None, group: int = 1
    ) -> SlotPeaks:
        """The peak of every slot [start, end) reaches into (of ``group`` slots each), for a
        refusal's suggestions."""
        return self.ledger.slot_peaks(start, end, exclude, group)


def booked_overlapping(
    conn: Connection, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
) -> list[Booked]:
    """Seats held by confirmed bookings overlapping [start, end).

    A booking overlaps when it starts before ``end`` and ends after ``start``. One index
    range per length class (ix_reservations_capacity): a booking of class k is at most
    ``span_limit(k)`` long, so it can only overlap if it starts after ``start - span_limit(k)``
    (the open-ended last class: after ``start - longest``, the longest window allowed).
    What is read beyond the overlapping bookings is at most one class length of starts per
    class, so the cost follows the bookings near the window, not the table size.
    """
    params = _window_params(start, end, longest, exclude)
    rows = conn.execute(_OVERLAPPING[exclude is not None], params)
    # Plain DateTime columns and one replace each: the TypeDecorator per value costs more
    # than the query when thousands of bookings lie near the window.
    return [Booked(s.replace(tzinfo=UTC), e.replace(tzinfo=UTC), n) for s, e, n in rows]


def seats_overlapping(
    conn: Connection, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
) -> int:
    """Every seat of the confirmed bookings overlapping [start, end), summed: never less than
    the peak within the window, so a booking that fits beside it fits for sure.

    The same index ranges as ``booked_overlapping``, summed by the database: one number comes
    back, whatever the number of bookings near the window.
    """
    params = _window_params(start, end, longest, exclude)
    return int(conn.execute(_SEATS_OVERLAPPING[exclude is not None], params).scalar_one())


def peak_reserved(
    conn: Connection, start: datetime, end: datetime, longest: timedelta, exclude: int | None = None
) -> int:
    """Exactly the most seats confirmed bookings hold at once within [start, end).

    The rows of ``booked_overlapping``, but as the database stores them (SQLite: text that
    orders like the instants; PostgreSQL: naive datetimes), swept without a datetime or a
    Booked per row.
    """
    params = _window_params(start, end, longest, exclude)
    return capacity.peak_seats(conn.execute(_OVERLAPPING_AS_STORED[exclude is not None], params))


def _window_params(start: datetime, end: datetime, longest: timedelta, exclude: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"start": start, "end": end}
    for k in range(SPAN_CLASSES):
        limit = span_limit(k)
        params[f"from_{k}"] = start - (longest if limit is None else min(limit, longest))
    if exclude is not None:
        params["exclude"] = exclude
    return params


def _overlapping(excluding: bool, *columns: ColumnElement[Any]) -> CompoundSelect[Any]:
    """A capacity read, built once (its cache key too): a UNION ALL of one range per class."""
    r = reservations.c
    parts = []
    for k in range(SPAN_CLASSES):
        q = select(*columns).where(
            r.span_class == k,
            r.status == ReservationStatus.ACTIVE.value,
            r.starts_at >= bindparam(f"from_{k}", type_=UtcDateTime()),
            r.starts_at < bindparam("end", type_=UtcDateTime()),
            r.ends_at > bindparam("start", type_=UtcDateTime()),
        )
        if excluding:
            q = q.where(r.id != bindparam("exclude", type_=Integer()))
        parts.append(q)
    return union_all(*parts)


def _seats_overlapping(excluding: bool) -> Select[Any]:
    ranges = _overlapping(excluding, reservations.c.seats).subquery("overlapping")
    return select(func.coalesce(func.sum(ranges.c.seats), 0))


_R = reservations.c
_EXCLUDING = (False, True)
_OVERLAPPING = tuple(
    _overlapping(x, type_coerce(_R.starts_at, DateTime()), type_coerce(_R.ends_at, DateTime()), _R.seats)
    for x in _EXCLUDING
)
# The values as stored, unconverted (NullType: no result processing); they order like instants.
_OVERLAPPING_AS_STORED = tuple(
    _overlapping(x, type_coerce(_R.starts_at, NULLTYPE), type_coerce(_R.ends_at, NULLTYPE), _R.seats)
    for x in _EXCLUDING
)
_SEATS_OVERLAPPING = tuple(_seats_overlapping(x) for x in _EXCLUDING)
