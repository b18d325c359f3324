"""The capacity ledger's slot arithmetic (booking.domain.ledger) against a sweep of the bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import capacity, ledger
from booking.domain.capacity import Booked
from booking.domain.ledger import SlotPeaks, footprint, slot_of, slot_start

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_footprint_covers_whole_slots_and_reaches_into_at_most_two() -> None:
    fp = footprint(at(10), at(50), QUARTER)  # 08:10-08:50 on quarters
    assert [slot_start(i, QUARTER) for i in fp.full] == [at(15), at(30)]
    assert [slot_start(i, QUARTER) for i in fp.partial] == [at(0), at(45)]
    aligned = footprint(at(0), at(60), QUARTER)
    assert (len(aligned.full), aligned.partial) == (4, ())
    inside = footprint(at(3), at(7), QUARTER)
    assert (len(inside.full), inside.partial) == (0, (slot_of(at(0), QUARTER),))


def test_a_slot_keeps_its_covering_seats_and_its_exact_peak() -> None:
    booked = [Booked(at(0), at(60), 4), Booked(at(5), at(10), 3), Booked(at(10), at(20), 2)]
    built = ledger.build(booked, QUARTER)
    assert built[slot_of(at(0), QUARTER)] == (4, 7)  # 3 more over 08:05-08:10 only
    assert built[slot_of(at(15), QUARTER)] == (4, 6)  # 08:15-08:20: the 2 still held
    assert built[slot_of(at(45), QUARTER)] == (4, 4)
    assert slot_of(at(60), QUARTER) not in built  # [a, b): nothing held at 09:00


bookings = st.lists(
    st.tuples(st.integers(0, 600), st.integers(1, 300), st.integers(1, 9)).map(
        lambda t: Booked(at(t[0] / 2), at(t[0] / 2 + t[1] / 3), t[2])
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(bookings, st.sampled_from([1, 7, 15, 60]))
def test_built_ledger_agrees_with_a_sweep(booked: list[Booked], minutes: int) -> None:
    slot = timedelta(minutes=minutes)
    built = ledger.build(booked, slot)
    for i, (covered, peak) in built.items():
        lo, hi = slot_start(i, slot), slot_start(i + 1, slot)
        assert peak == capacity.peak(booked, lo, hi)[0]
        assert covered == sum(b.seats for b in booked if b.starts_at <= lo and b.ends_at >= hi)
        partials = [
            b
            for b in booked
            if b.ends_at > lo and b.starts_at < hi and not (b.starts_at <= lo and b.ends_at >= hi)
        ]
        assert ledger.slot_level(covered, partials, lo, hi)[0] == peak


def _suggest_by_sweep(
    booked: list[Booked],
    start: datetime,
    length: timedelta,
    room: int,
    slot: timedelta,
    lo: datetime,
    hi: datetime,
) -> list[datetime]:
    """Every slot-aligned start in [lo, hi] where the window fits, by the exact sweep."""
    c = slot_start(slot_of(lo, slot) + (slot_start(slot_of(lo, slot), slot) < lo), slot)
    out = []
    while c <= hi:
        if capacity.peak(booked, c, c + length)[0] <= room:
            out.append(c)
        c += slot
    return out


@settings(max_examples=200, deadline=None)
@given(bookings, st.integers(0, 600), st.sampled_from([15, 30, 60, 95]), st.integers(0, 12))
def test_every_suggestion_fits_and_none_nearer_is_missed(
    booked: list[Booked], start_half_minutes: int, minutes: int, room: int
) -> None:
    slot = QUARTER
    start, length = at(start_half_minutes / 2), timedelta(minutes=minutes)
    lo, hi = start - timedelta(hours=3), start + timedelta(hours=3)
    first = slot_of(lo, slot)
    built = ledger.build(booked, slot)
    to = slot_of(hi + length, slot) + 1
    peaks = SlotPeaks(slot, first, [built.get(i, (0, 0))[1] for i in range(first, to)])
    got = ledger.suggest(peaks, start, length, room, [], lo, hi, 3)
    assert list(got) == sorted(got) and len(got) <= 3
    for s in got:
        assert capacity.peak(booked, s, s + length)[0] <= room  # each one books
    if length % slot == timedelta(0):  # whole slots: the slots are exact, so nothing nearer fits
        fitting = [c for c in _suggest_by_sweep(booked, start, length, room, slot, lo, hi) if c != start]
        after = [c for c in fitting if c > start]
        before = [c for c in fitting if c < start]
        if after:
            assert after[0] in got or len(got) == 3
        if before:
            assert before[-1] in got or len(got) == 3
        if fitting:
            assert got


def test_suggestions_wait_for_the_live_seats_to_end() -> None:
    slot = MINUTE
    booked = [Booked(at(0), at(60), 8)]
    first = slot_of(at(-120), slot)
    built = ledger.build(booked, slot)
    peaks = SlotPeaks(slot, first, [built.get(i, (0, 0))[1] for i in range(first, first + 400)])
    # 10 seats, 2 wanted: the booking leaves 2, and 1 live seat is held until 08:30.
    got = ledger.suggest(peaks, at(0), timedelta(minutes=60), 8, [at(30)], at(-60), at(120), 3)
    assert got == (at(-60), at(30))  # before: clear of the booking; after: once the live seat ended
    got = ledger.suggest(peaks, at(0), timedelta(minutes=60), 8, [], at(-60), at(120), 3)
    assert got == (at(-1), at(1))  # no live seat: one run, every start fits; its nearest two
