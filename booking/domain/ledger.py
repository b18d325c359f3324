"""The capacity ledger's slot arithmetic (R7), pure: no store, no clock.

Time is cut into slots of one length (``BookingSettings.capacity_slot_minutes``), slot ``i``
being [EPOCH + i * slot, EPOCH + (i + 1) * slot). For each slot the ledger keeps two numbers:

- ``covered``: the seats of the bookings that hold the whole slot;
- ``peak``: the most seats held at once at any instant within the slot (covered included).

A booking [s, e) covers whole the slots of its ``Footprint.full`` range: adding it adds its seats
to both numbers there, exactly (it is held at every instant of those slots). It reaches into at
most two more slots without covering them (``Footprint.partial``: where it starts or ends inside
a slot); there the peak is resolved again from ``covered`` and the few bookings that start or end
inside that slot (``slot_level``). A window is checked the same way: the maximum ``peak`` over the
slots it covers whole, and its own partial slots resolved exactly over the part it holds.

So a check reads the window's own slots (and, only when the window or a booking does not fall on
slot boundaries, the bookings that start or end inside its two edge slots); a booking writes its
own slots. Neither depends on how many bookings the table holds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import compress, pairwise

from booking.domain.capacity import Booked, peak

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    return (at - EPOCH) // _US


def slot_us(slot: timedelta) -> int:
    us = slot // _US
    if us <= 0:
        raise ValueError("a ledger slot lasts at least a microsecond")
    return us


def slot_start(i: int, slot: timedelta) -> datetime:
    return EPOCH + i * slot


def slot_of(at: datetime, slot: timedelta) -> int:
    """The slot that holds the instant ``at``."""
    return micros(at) // slot_us(slot)


@dataclass(frozen=True)
class Footprint:
    """Where [start, end) falls on the slots: the slots it covers whole, [full_from, full_to),
    and the (at most two) it reaches into without covering them."""

    full_from: int
    full_to: int
    partial: tuple[int, ...]

    @property
    def full(self) -> range:
        return range(self.full_from, self.full_to)


def footprint(start: datetime, end: datetime, slot: timedelta) -> Footprint:
    length = slot_us(slot)
    s, e = micros(start), micros(end)
    if e <= s:
        return Footprint(0, 0, ())
    first, last = s // length, (e - 1) // length
    full_from, full_to = -(-s // length), e // length
    full_to = max(full_to, full_from)  # inside one slot, touching neither boundary: none whole
    partial = tuple(sorted({i for i in (first, last) if not full_from <= i < full_to}))
    return Footprint(full_from, full_to, partial)


def clip(i: int, slot: timedelta, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The part of [start, end) within slot ``i``."""
    return max(start, slot_start(i, slot)), min(end, slot_start(i + 1, slot))


def slot_level(covered: int, partials: Iterable[Booked], lo: datetime, hi: datetime) -> tuple[int, datetime]:
    """The most seats held at once within [lo, hi), a part of one slot, and its first instant:
    the slot's ``covered`` seats plus the peak of the bookings that only reach into it."""
    level, at = peak(partials, lo, hi)
    return covered + level, at


def build(booked: Iterable[Booked], slot: timedelta) -> dict[int, tuple[int, int]]:
    """The ledger of these bookings from scratch: slot -> (covered, peak), for every slot some
    booking reaches into (a migration, a rebuild, the property tests' reference)."""
    length = slot_us(slot)
    covered: dict[int, int] = {}
    edges: dict[int, int] = {}
    for b in booked:
        s, e = micros(b.starts_at), micros(b.ends_at)
        if e <= s or b.seats == 0:
            continue
        edges[s] = edges.get(s, 0) + b.seats
        edges[e] = edges.get(e, 0) - b.seats
        f = -(-s // length)
        t = e // length
        if f < t:
            covered[f] = covered.get(f, 0) + b.seats
            covered[t] = covered.get(t, 0) - b.seats
    peaks: dict[int, int] = {}
    instants = sorted(edges)
    level = 0
    for n, at in enumerate(instants):
        level += edges[at]
        if level <= 0 or n + 1 == len(instants):
            continue
        # [at, next) holds ``level`` seats: every slot it reaches into peaks at least there.
        for i in range(at // length, (instants[n + 1] - 1) // length + 1):
            if peaks.get(i, 0) < level:
                peaks[i] = level
    out: dict[int, tuple[int, int]] = {}
    running = 0
    for i in sorted(set(peaks) | set(covered)):
        running += covered.get(i, 0)
        if i in peaks:
            out[i] = (running, peaks[i])
    return out


@dataclass(frozen=True)
class SlotPeaks:
    """The peaks of consecutive slots from ``first`` (a missing slot holds nothing)."""

    slot: timedelta
    first: int
    peaks: Sequence[int]

    def index(self, at: datetime) -> int:
        return slot_of(at, self.slot) - self.first


def suggest(
    slots: SlotPeaks,
    start: datetime,
    length: timedelta,
    room: int,
    live_ends: Sequence[datetime],
    not_before: datetime,
    not_after: datetime,
    count: int,
) -> tuple[datetime, ...]:
    """The starts nearest to ``start``, before and after it, where a window of ``length`` fits:
    each the edge of a run of fitting slot-aligned starts in [not_before, not_after] (the first
    of a run after ``start``, the last of one before), at most ``count``, in time order.

    A candidate fits when the peaks of the slots its window reaches into, plus the live seats
    still held at its start (``live_ends``, sorted: each counts until it ends), leave ``room``.
    A slot's peak bounds the window's part of it from above, so every start suggested fits.
    ``slots`` must cover [not_before, not_after + length).
    """
    if count <= 0 or room < 0:
        return ()
    k = -(-length // slots.slot)  # slots a slot-aligned window reaches into
    first_c = slots.index(not_before) + (slot_start(slot_of(not_before, slots.slot), slots.slot) < not_before)
    last_c = slots.index(not_after)
    if first_c > last_c:
        return ()
    p = slots.peaks

    def window_max(c: int) -> int:
        return max(p[c : c + k], default=0)

    def live_at(c: int) -> int:
        return len(live_ends) - bisect_right(live_ends, slot_start(slots.first + c, slots.slot))

    runs: list[tuple[int, int]] = []
    c = first_c
    # Where live seats still count, each start alone (their number changes with the start).
    free_from = slots.index(live_ends[-1]) + 1 if live_ends else first_c
    while c <= min(last_c, free_from - 1):
        if window_max(c) + live_at(c) <= room:
            if runs and runs[-1][1] == c - 1:
                runs[-1] = (runs[-1][0], c)
            else:
                runs.append((c, c))
        c += 1
    if c <= last_c:
        # Beyond them the room is the same for every start: runs lie between the slots that
        # are too full, at least k slots apart.
        to = min(len(p), last_c + k)
        bad = [c - 1, *compress(range(c, to), map(room.__lt__, p[c:to])), last_c + k]
        for a, b in pairwise(bad):
            lo, hi = a + 1, min(b - k, last_c)
            if lo <= hi:
                if runs and runs[-1][1] == lo - 1:
                    runs[-1] = (runs[-1][0], hi)
                else:
                    runs.append((lo, hi))
    # The first candidate after ``start``, and the last before it.
    at = slots.index(start)
    later = at + 1
    earlier = at - 1 if slot_start(slots.first + at, slots.slot) == start else at
    after = [max(lo, later) for lo, hi in runs if hi >= later][:count]
    before = [min(hi, earlier) for lo, hi in runs if lo <= earlier]
    starts = [slot_start(slots.first + i, slots.slot) for i in after + before[-count:]]
    nearest = sorted(set(starts), key=lambda s: (abs(s - start), s))[:count]
    return tuple(sorted(nearest))
