"""The capacity ledger in the store (R7): per slot, the seats of the confirmed bookings covering
it whole and its peak (booking.domain.ledger has the arithmetic and why it is exact).

ReservationRepository keeps it: every write that changes the seats a reservation holds (a new
confirmed booking, an edit, an approval, a rejection, a deletion, an extension) calls
``changed`` in the same transaction, after writing the reservation's row and holding the
capacity lock. A check reads the window's own slots (``window_peak``); a refusal's suggestions
read the slots of the search span (``slot_peaks``), one row each. The slot length is the one row
of ``capacity_ledger``; ``ensure`` rebuilds the ledger when the settings ask for another.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.types import NULLTYPE

from booking.domain import ledger
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks, footprint, slot_of, slot_start
from booking.domain.model import ReservationStatus
from booking.store.tables import UtcDateTime, capacity_ledger, capacity_slots, reservations

DEFAULT_SLOT = timedelta(minutes=1)  # what migration 0013 builds (BookingSettings' default)


class SlotLedger:
    """The ledger over one transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._slot: timedelta | None = None  # read in this transaction
        self._wanted: timedelta | None = None  # what ``ensure`` asked, not yet compared

    # --- the slot length --------------------------------------------------------------

    def slot(self) -> timedelta:
        if self._slot is None:
            seconds = self.conn.execute(_SLOT_SECONDS).scalar()
            if seconds is None:  # never built (a database made without migration 0013)
                self.rebuild(self._wanted or DEFAULT_SLOT)
            else:
                self._slot = timedelta(seconds=int(seconds))
                self.conn.info[_SEEN] = self._slot
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            if wanted != self._slot:
                self.rebuild(wanted)
        assert self._slot is not None
        return self._slot

    def ensure(self, slot: timedelta) -> None:
        """The ledger kept in slots of ``slot``: rebuilt if it was kept in others. Compared at
        the next use (a check reads the slot length in its own statement)."""
        self._wanted = slot
        if self._slot is not None:
            self.slot()

    def rebuild(self, slot: timedelta) -> int:
        """The ledger built again from every confirmed booking; how many slots it holds."""
        if slot % timedelta(seconds=1) or slot <= timedelta(0):
            raise ValueError("a ledger slot is a whole number of seconds")
        booked = [Booked(_utc(s), _utc(e), n) for s, e, n in self.conn.execute(_CONFIRMED)]
        built = ledger.build(booked, slot)
        self.conn.execute(delete(capacity_slots))
        if built:
            rows = [{"slot": i, "covered": c, "peak": p} for i, (c, p) in built.items()]
            self.conn.execute(insert(capacity_slots), rows)
        self.conn.execute(delete(capacity_ledger))
        self.conn.execute(insert(capacity_ledger), {"id": 1, "slot_seconds": int(slot.total_seconds())})
        self._slot = slot
        self.conn.info[_SEEN] = slot
        return len(built)

    # --- writes -----------------------------------------------------------------------

    def changed(self, before: Booked | None, after: Booked | None) -> None:
        """A reservation held ``before`` and now holds ``after`` (None: no seats); its row is
        written already. The slots either covers whole move by its seats, exactly; the slots
        where either starts or ends inside are resolved again from the bookings there."""
        if before == after:
            return
        slot = self.slot()
        touched: set[int] = set()
        for b, sign in ((before, -1), (after, 1)):
            if b is None or b.seats == 0:
                continue
            fp = footprint(b.starts_at, b.ends_at, slot)
            if fp.full_from < fp.full_to:
                self._add(fp.full_from, fp.full_to, sign * b.seats)
            touched.update(fp.partial)
        for i in sorted(touched):
            self._resolve(i, slot)

    def _add(self, first: int, to: int, seats: int) -> None:
        stmt = _ADD_PG if self.conn.dialect.name == "postgresql" else _ADD_SQLITE
        self.conn.execute(stmt, {"a": first, "b": to, "n": seats})

    def _resolve(self, i: int, slot: timedelta) -> None:
        covered = self._covered(i)
        lo, hi = slot_start(i, slot), slot_start(i + 1, slot)
        level, _ = ledger.slot_level(covered, self._partials(lo, hi), lo, hi)
        if self.conn.execute(_SET_PEAK, {"at_slot": i, "new_peak": level}).rowcount == 0:
            self.conn.execute(insert(capacity_slots), {"slot": i, "covered": 0, "peak": level})

    # --- reads ------------------------------------------------------------------------

    def window_peak(
        self, start: datetime, end: datetime, exclude: int | None = None, instant: bool = False
    ) -> tuple[int, datetime]:
        """The most seats confirmed bookings hold at once within [start, end), exactly (without
        the reservation ``exclude``), and (``instant``) the first instant it happens; otherwise
        the instant returned is ``start``."""
        if exclude is None and not instant and self._slot is None:
            fast = self._peak_as_seen(start, end)
            if fast is not None:
                return fast, start
        slot = self.slot()
        fp = footprint(start, end, slot)
        gone = self._excluded(exclude)
        exact = set(fp.partial)
        gone_fp = None
        if gone is not None:
            gone_fp = footprint(gone[1].starts_at, gone[1].ends_at, slot)
            exact |= {i for i in gone_fp.partial if fp.full_from <= i < fp.full_to}
        best: tuple[int, datetime] = (0, start)
        if fp.full_from < fp.full_to:
            # The excluded booking's partial slots inside the window: resolved apart (at most 2).
            skip = [*sorted(i for i in exact if fp.full_from <= i < fp.full_to), -1, -1]
            params: dict[str, Any] = {"a": fp.full_from, "b": fp.full_to, "x1": skip[0], "x2": skip[1]}
            params.update(xa=0, xb=0, xn=0)
            if gone_fp is not None and gone is not None:
                params.update(xa=gone_fp.full_from, xb=gone_fp.full_to, xn=gone[1].seats)
            if instant:
                row = self.conn.execute(_ARGMAX, params).first()
                if row is not None and row[1] > 0:
                    i = int(row[0])
                    lo, hi = slot_start(i, slot), slot_start(i + 1, slot)
                    # Its peak all covering seats: held the whole slot, from its start.
                    best = (int(row[1]), lo) if row[1] == row[2] else self._exact(i, lo, hi, gone, gone_fp)
            else:
                found = self.conn.execute(_MAX, params).scalar()
                best = (int(found or 0), start)
        for i in sorted(exact):
            lo, hi = ledger.clip(i, slot, start, end)
            if lo < hi:
                level = self._exact(i, lo, hi, gone, gone_fp)
                if level[0] > best[0] or (instant and level[0] == best[0] > 0 and level[1] < best[1]):
                    best = level
        return best

    def _peak_as_seen(self, start: datetime, end: datetime) -> int | None:
        """The check's common case in one statement: the slots it covers whole read in the
        length this connection saw last, with the length the ledger keeps now. None if they
        differ (or none was seen): then the length is read first."""
        seen = self.conn.info.get(_SEEN)
        if not isinstance(seen, timedelta) or self._wanted not in (None, seen):
            return None
        fp = footprint(start, end, seen)
        seconds, found = self.conn.execute(_MAX_AS_SEEN, {"a": fp.full_from, "b": fp.full_to}).one()
        if seconds is None or timedelta(seconds=int(seconds)) != seen:
            return None
        self._slot, self._wanted = seen, None
        best = int(found or 0)
        for i in fp.partial:
            lo, hi = ledger.clip(i, seen, start, end)
            if lo < hi:
                best = max(best, self._exact(i, lo, hi, None, None)[0])
        return best

    def slot_peaks(
        self, start: datetime, end: datetime, exclude: int | None = None, group: int = 1
    ) -> SlotPeaks:
        """The peak of every slot [start, end) reaches into (an upper bound for any part of one;
        without ``exclude`` where it holds the whole slot). ``group`` > 1: the peaks of slots
        ``group`` times as long, each the most of its slots' (summed up by the database, and
        ``exclude`` still counted: upper bounds all the same)."""
        slot = self.slot() * group
        first = slot_of(start, slot)
        to = slot_of(end - timedelta(microseconds=1), slot) + 1
        peaks = [0] * max(0, to - first)
        # Packed by the database into two strings: thousands of slots come back without a row
        # object (nor a garbage collection) each.
        pg = self.conn.dialect.name == "postgresql"
        stmt = (_GROUP_PG if pg else _GROUP_SQLITE) if group > 1 else (_PACKED_PG if pg else _PACKED_SQLITE)
        found, values = self.conn.execute(stmt, {"a": first * group, "b": to * group, "g": group}).one()
        if found:
            for i, p in zip(map(int, found.split(",")), map(int, values.split(",")), strict=True):
                peaks[i - first] = p
        gone = self._excluded(exclude) if group == 1 else None
        if gone is not None:
            fp = footprint(gone[1].starts_at, gone[1].ends_at, slot)
            for i in range(max(first, fp.full_from), min(to, fp.full_to)):
                peaks[i - first] -= gone[1].seats
        return SlotPeaks(slot, first, peaks)

    def _exact(
        self,
        i: int,
        lo: datetime,
        hi: datetime,
        gone: tuple[int, Booked] | None,
        gone_fp: ledger.Footprint | None,
    ) -> tuple[int, datetime]:
        """Slot ``i`` resolved over [lo, hi), a part of it, without ``gone``."""
        slot = self.slot()
        covered = self._covered(i)
        if gone is not None and gone_fp is not None and i in gone_fp.full:
            covered -= gone[1].seats
        partials = self._partials(slot_start(i, slot), slot_start(i + 1, slot), gone[0] if gone else None)
        return ledger.slot_level(covered, partials, lo, hi)

    def _covered(self, i: int) -> int:
        return int(self.conn.execute(_COVERED, {"slot": i}).scalar() or 0)

    def _partials(self, lo: datetime, hi: datetime, exclude: int | None = None) -> Iterable[Booked]:
        """The confirmed bookings that start or end strictly inside [lo, hi)."""
        seen: set[int] = set()
        out = []
        for rid, s, e, n in self.conn.execute(_PARTIALS, {"lo": lo, "hi": hi}):
            if rid not in seen and rid != exclude:
                seen.add(rid)
                out.append(Booked(s.replace(tzinfo=UTC), e.replace(tzinfo=UTC), n))
        return out

    def _excluded(self, exclude: int | None) -> tuple[int, Booked] | None:
        if exclude is None:
            return None
        row = self.conn.execute(_HELD, {"id": exclude}).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return exclude, Booked(row[0].replace(tzinfo=UTC), row[1].replace(tzinfo=UTC), int(row[2]))


def _utc(stored: datetime | str) -> datetime:
    at = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return at.replace(tzinfo=UTC)


# Built once, with their cache keys.
_S = capacity_slots.c
_R = reservations.c
_ACTIVE: ColumnElement[str] = literal_column(
    f"'{ReservationStatus.ACTIVE.value}'"
)  # a literal: the partial indexes
_SEEN = "dialconf.ledger_slot"  # Connection.info: the slot length this connection read last
_SLOT_SECONDS = select(capacity_ledger.c.slot_seconds).where(capacity_ledger.c.id == 1)
# As stored (SQLite: ISO text, parsed in C; PostgreSQL: naive datetimes): a rebuild reads them all.
_CONFIRMED = select(type_coerce(_R.starts_at, NULLTYPE), type_coerce(_R.ends_at, NULLTYPE), _R.seats).where(
    _R.status == _ACTIVE, _R.starts_at.is_not(None), _R.ends_at.is_not(None)
)
_HELD = select(type_coerce(_R.starts_at, DateTime()), type_coerce(_R.ends_at, DateTime()), _R.seats).where(
    _R.id == bindparam("id", type_=Integer()), _R.status == ReservationStatus.ACTIVE.value
)
_COVERED = select(_S.covered).where(_S.slot == bindparam("slot", type_=BigInteger()))
_SET_PEAK = (
    update(capacity_slots)
    .where(_S.slot == bindparam("at_slot", type_=BigInteger()))
    .values(peak=bindparam("new_peak", type_=Integer()))
)
_LO, _HI = bindparam("lo", type_=UtcDateTime()), bindparam("hi", type_=UtcDateTime())
_COLS = (_R.id, type_coerce(_R.starts_at, DateTime()), type_coerce(_R.ends_at, DateTime()), _R.seats)
_PARTIALS = union_all(
    select(*_COLS).where(_R.status == _ACTIVE, _R.starts_at > _LO, _R.starts_at < _HI),
    select(*_COLS).where(_R.status == _ACTIVE, _R.ends_at > _LO, _R.ends_at < _HI),
)
_A, _B = bindparam("a", type_=BigInteger()), bindparam("b", type_=BigInteger())
_VALUE = _S.peak - case(
    (
        and_(_S.slot >= bindparam("xa", type_=BigInteger()), _S.slot < bindparam("xb", type_=BigInteger())),
        bindparam("xn", type_=Integer()),
    ),
    else_=0,
)
_INTERIOR = and_(
    _S.slot >= _A,
    _S.slot < _B,
    _S.slot != bindparam("x1", type_=BigInteger()),
    _S.slot != bindparam("x2", type_=BigInteger()),
)
_MAX = select(func.max(_VALUE)).where(_INTERIOR)
_MAX_AS_SEEN = select(
    _SLOT_SECONDS.scalar_subquery(),
    select(func.max(_S.peak)).where(_S.slot >= _A, _S.slot < _B).scalar_subquery(),
)
_COVERED_LESS = _S.covered - case(
    (and_(_S.slot >= bindparam("xa", type_=BigInteger()), _S.slot < bindparam("xb", type_=BigInteger())),
     bindparam("xn", type_=Integer())),
    else_=0,
)  # fmt: skip
_ARGMAX = select(_S.slot, _VALUE, _COVERED_LESS).where(_INTERIOR).order_by(_VALUE.desc(), _S.slot).limit(1)
_RANGE = "FROM capacity_slots WHERE slot >= :a AND slot < :b"
_PACKED_SQLITE = text(f"SELECT group_concat(slot), group_concat(peak) {_RANGE}")
_PACKED_PG = text(f"SELECT string_agg(CAST(slot AS TEXT), ','), string_agg(CAST(peak AS TEXT), ',') {_RANGE}")
_GROUP_SQLITE = text(
    "SELECT group_concat(g), group_concat(p) "
    f"FROM (SELECT slot / :g AS g, max(peak) AS p {_RANGE} GROUP BY 1)"
)
_GROUP_PG = text(
    "SELECT string_agg(CAST(g AS TEXT), ','), string_agg(CAST(p AS TEXT), ',') "
    f"FROM (SELECT slot / :g AS g, max(peak) AS p {_RANGE} GROUP BY 1) AS grouped"
)
# A booking's seats added to (or taken from) the slots it covers whole: one statement, the
# missing slots made on the way.
_ADD_PG = text(
    "INSERT INTO capacity_slots (slot, covered, peak) "
    "SELECT g, :n, :n FROM generate_series(CAST(:a AS BIGINT), CAST(:b AS BIGINT) - 1) AS g "
    "ON CONFLICT (slot) DO UPDATE SET covered = capacity_slots.covered + EXCLUDED.covered, "
    "peak = capacity_slots.peak + EXCLUDED.peak"
)
_ADD_SQLITE = text(
    "WITH RECURSIVE g(i) AS (SELECT :a UNION ALL SELECT i + 1 FROM g WHERE i + 1 < :b) "
    "INSERT INTO capacity_slots (slot, covered, peak) SELECT i, :n, :n FROM g WHERE true "
    "ON CONFLICT (slot) DO UPDATE SET covered = covered + excluded.covered, peak = peak + excluded.peak"
)
