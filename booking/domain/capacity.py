"""The shared system capacity: seats reserved at any instant never exceed the configured total.

Pure functions over the reservations that overlap the times in question. The store fetches
only those (an index on ends_at/starts_at), so a check costs O(k log k) in the k overlapping
bookings, not in the size of the table. A booking that clearly fits costs less still: the seats
of every overlapping booking, summed by the database, bound the peak from above, and the exact
sweep (``peak_seats``, over the database's raw values) runs only when that bound leaves no room.

Live seats (an anytime room's members, booking.services.seats) share the same capacity. Each is
held from its member's join until ``held_until``, which moves ahead while they talk: that end is
how far the seat is known to be held, not when it will be free. So a live seat counts over all
of any window it reaches into (``live_within``), never as ending inside it; a window that starts
at or after every ``held_until`` does not count them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, Protocol


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


@dataclass(frozen=True)
class Booked:
    """Seats held over [starts_at, ends_at)."""

    starts_at: datetime
    ends_at: datetime
    seats: int


@dataclass(frozen=True)
class CapacityRefusal:
    """Why a booking does not fit, and what would."""

    peak_reserved: int  # seats already reserved at the busiest instant of the window
    busiest_at: datetime  # that instant
    free_seats: int  # the largest seat count that fits the whole requested window
    suggested_starts: tuple[datetime, ...]  # nearest starts where the requested seats fit


def peak(booked: Iterable[Booked], start: datetime, end: datetime) -> tuple[int, datetime]:
    """The most seats reserved at once within [start, end), and the first instant it happens."""
    edges: list[tuple[datetime, int]] = []
    for b in booked:
        if b.ends_at <= start or b.starts_at >= end:
            continue
        edges.append((max(b.starts_at, start), b.seats))
        edges.append((min(b.ends_at, end), -b.seats))
    # Ends sort before starts at the same instant: [a, b) and [b, c) do not overlap.
    edges.sort(key=lambda e: (e[0], e[1]))
    best, best_at, level = 0, start, 0
    for at, delta in edges:
        level += delta
        if level > best:
            best, best_at = level, at
    return best, best_at


def live_within(live: Iterable[Booked], start: datetime, end: datetime) -> int:
    """The live seats that count against [start, end): every one reaching into it, as if all
    were held for the whole window (their ends are only renewed, never known)."""
    return sum(b.seats for b in live if b.ends_at > start and b.starts_at < end)


def fits(
    booked: Sequence[Booked],
    start: datetime,
    end: datetime,
    seats: int,
    capacity: int,
    live: Sequence[Booked] = (),
) -> bool:
    return peak(booked, start, end)[0] + live_within(live, start, end) + seats <= capacity


def peak_seats(overlapping: Iterable[tuple[_Ordered, _Ordered, int]]) -> int:
    """The most seats held at once within a window, given every booking that overlaps it as
    (start, end, seats), and nothing else: what ``peak(...)[0]`` returns, without the instant.

    Start and end may be any values that order like the instants they stand for (datetimes, or
    the database's own text for them: no conversion per row). No clipping to the window is
    needed: every booking given overlaps it, so those held at an instant before the window are
    all still held at its start, and those held at an instant after it all were at the latest of
    their starts, which lies within it.
    """
    edges: list[tuple[_Ordered, int]] = []
    for starts_at, ends_at, seats in overlapping:
        edges.append((starts_at, seats))
        edges.append((ends_at, -seats))
    # Ends sort before starts at the same instant: [a, b) and [b, c) do not overlap.
    edges.sort()
    return max(accumulate(delta for _, delta in edges), default=0)


def check(
    booked: Sequence[Booked],
    start: datetime,
    end: datetime,
    seats: int,
    capacity: int,
    not_before: datetime,
    not_after: datetime,
    suggestions: int = 3,
    live: Sequence[Booked] = (),
) -> CapacityRefusal | None:
    """None when ``seats`` fit over [start, end); otherwise a refusal with alternatives.

    ``booked`` must hold every reservation overlapping [not_before, not_after + length]:
    alternatives are searched within that horizon only (starts allowed by the booking rules).
    ``live``: the live seats (each counted over any window it reaches into: ``live_within``);
    the refusal's peak includes those reaching into the window.
    """
    reserved, busiest = peak(booked, start, end)
    reserved += live_within(live, start, end)
    if reserved + seats <= capacity:
        return None
    length = end - start
    # A free slot can only open where some booking or live seat ends (moving later) or where the
    # window's end meets a booking's start (moving earlier); those are the only candidate starts.
    # (Live seats began before any allowed start: moving earlier never frees one.)
    candidates = {b.ends_at for b in (*booked, *live)} | {b.starts_at - length for b in booked}
    fitting = sorted(
        (
            c
            for c in candidates
            if not_before <= c <= not_after and fits(booked, c, c + length, seats, capacity, live)
        ),
        key=lambda c: (abs(c - start), c),
    )
    return CapacityRefusal(
        peak_reserved=reserved,
        busiest_at=busiest,
        free_seats=max(0, capacity - reserved),
        suggested_starts=tuple(sorted(fitting[:suggestions])),
    )


def horizon(start: datetime, end: datetime, search: timedelta) -> tuple[datetime, datetime]:
    """The span whose bookings a check with alternatives needs: candidate starts lie within
    ``search`` of ``start``, so their windows lie within [start - search, end + search)."""
    return start - search, end + search
