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
    Connection,
    delete,
    insert,
)

from booking.domain import ledger
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks, footprint, slot_of, slot_start
from booking.store.ledger_sql import (
    ADD_PG,
    ADD_SQLITE,
    ARGMAX,
    CONFIRMED,
    COVERED,
    GROUP_PG,
    GROUP_SQLITE,
    HELD,
    MAX,
    MAX_AS_SEEN,
    PACKED_PG,
    PACKED_SQLITE,
    PARTIALS,
    SEEN,
    SET_PEAK,
    SLOT_SECONDS,
)
from booking.store.tables import capacity_ledger, capacity_slots

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
            seconds = self.conn.execute(SLOT_SECONDS).scalar()
            if seconds is None:  # never built (a database made without migration 0013)
                self.rebuild(self._wanted or DEFAULT_SLOT)
            else:
                self._slot = timedelta(seconds=int(seconds))
                self.conn.info[SEEN] = self._slot
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
        booked = [Booked(_utc(s), _utc(e), n) for s, e, n in self.conn.execute(CONFIRMED)]
        built = ledger.build(booked, slot)
        self.conn.execute(delete(capacity_slots))
        if built:
            rows = [{"slot": i, "covered": c, "peak": p} for i, (c, p) in built.items()]
            self.conn.execute(insert(capacity_slots), rows)
        self.conn.execute(delete(capacity_ledger))
        self.conn.execute(insert(capacity_ledger), {"id": 1, "slot_seconds": int(slot.total_seconds())})
        self._slot = slot
        self.conn.info[SEEN] = slot
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
        stmt = ADD_PG if self.conn.dialect.name == "postgresql" else ADD_SQLITE
        self.conn.execute(stmt, {"a": first, "b": to, "n": seats})

    def _resolve(self, i: int, slot: timedelta) -> None:
        covered = self._covered(i)
        lo, hi = slot_start(i, slot), slot_start(i + 1, slot)
        level, _ = ledger.slot_level(covered, self._partials(lo, hi), lo, hi)
        if self.conn.execute(SET_PEAK, {"at_slot": i, "new_peak": level}).rowcount == 0:
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
                row = self.conn.execute(ARGMAX, params).first()
                if row is not None and row[1] > 0:
                    i = int(row[0])
                    lo, hi = slot_start(i, slot), slot_start(i + 1, slot)
                    # Its peak all covering seats: held the whole slot, from its start.
                    best = (int(row[1]), lo) if row[1] == row[2] else self._exact(i, lo, hi, gone, gone_fp)
            else:
                found = self.conn.execute(MAX, params).scalar()
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
        seen = self.conn.info.get(SEEN)
        if not isinstance(seen, timedelta) or self._wanted not in (None, seen):
            return None
        fp = footprint(start, end, seen)
        seconds, found = self.conn.execute(MAX_AS_SEEN, {"a": fp.full_from, "b": fp.full_to}).one()
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
        stmt = (GROUP_PG if pg else GROUP_SQLITE) if group > 1 else (PACKED_PG if pg else PACKED_SQLITE)
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
        return int(self.conn.execute(COVERED, {"slot": i}).scalar() or 0)

    def _partials(self, lo: datetime, hi: datetime, exclude: int | None = None) -> Iterable[Booked]:
        """The confirmed bookings that start or end strictly inside [lo, hi)."""
        seen: set[int] = set()
        out = []
        for rid, s, e, n in self.conn.execute(PARTIALS, {"lo": lo, "hi": hi}):
            if rid not in seen and rid != exclude:
                seen.add(rid)
                out.append(Booked(s.replace(tzinfo=UTC), e.replace(tzinfo=UTC), n))
        return out

    def _excluded(self, exclude: int | None) -> tuple[int, Booked] | None:
        if exclude is None:
            return None
        row = self.conn.execute(HELD, {"id": exclude}).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return exclude, Booked(row[0].replace(tzinfo=UTC), row[1].replace(tzinfo=UTC), int(row[2]))


def _utc(stored: datetime | str) -> datetime:
    at = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return at.replace(tzinfo=UTC)
