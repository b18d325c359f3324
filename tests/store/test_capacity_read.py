"""The capacity reads are exact: the rows are exactly the confirmed bookings overlapping a window,
the bound is exactly their seats summed, and the peak is exactly the sweep over them.

Bookings on a quarter-hour grid, so that windows and bookings share edges (back to back, same
start, same end) as real bookings do, of every length class up to 12 days; then many windows,
with and without an excluded booking, against a plain filter over every booking.
"""

from __future__ import annotations

import random
from datetime import timedelta

from booking.domain.capacity import peak
from booking.store.reservations import ReservationRepository
from tests.store.bulk import load_bookings
from tests.store.conftest import T0, Store

LONGEST = timedelta(days=14)
GRID = [(15, 2), (30, 4), (45, 1), (60, 4), (120, 2), (8 * 60, 1), (2 * 24 * 60, 1), (12 * 24 * 60, 1)]


def test_capacity_read_is_exactly_the_overlapping_bookings(store: Store) -> None:
    load_bookings(store.engine, 600, T0, 3, T0, seed=5, lengths=GRID, step_minutes=15, max_seats=9)
    rand = random.Random(3)
    with store.engine.connect() as conn:
        repo = ReservationRepository(conn)
        everything = repo.booked_overlapping(T0 - LONGEST, T0 + timedelta(days=30), LONGEST)
        assert len(everything) == 600
        assert len({b.ends_at - b.starts_at for b in everything}) == len(GRID)
        for _ in range(300):
            start = T0 + timedelta(minutes=15 * rand.randrange(-8, 4 * 24 * 16))
            end = start + timedelta(minutes=15 * rand.randint(1, 48))
            near = repo.booked_overlapping(start, end, LONGEST)
            expected = [b for b in everything if b.starts_at < end and b.ends_at > start]
            assert sorted(near, key=repr) == sorted(expected, key=repr)
            assert peak(near, start, end) == peak(everything, start, end)
            assert repo.seats_overlapping(start, end, LONGEST) == sum(b.seats for b in expected)
            assert repo.peak_reserved(start, end, LONGEST) == peak(everything, start, end)[0]
        for excluded in rand.sample(range(1, 601), 20):
            gone = repo.get_reservation(excluded)
            assert gone is not None and gone.starts_at is not None and gone.ends_at is not None
            without = repo.booked_overlapping(gone.starts_at, gone.ends_at, LONGEST, exclude=excluded)
            with_it = repo.booked_overlapping(gone.starts_at, gone.ends_at, LONGEST)
            assert len(with_it) == len(without) + 1
            summed = repo.seats_overlapping(gone.starts_at, gone.ends_at, LONGEST, exclude=excluded)
            assert summed == sum(b.seats for b in without) == sum(b.seats for b in with_it) - gone.seats
            held = repo.peak_reserved(gone.starts_at, gone.ends_at, LONGEST, exclude=excluded)
            assert held == peak(without, gone.starts_at, gone.ends_at)[0]
