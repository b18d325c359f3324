"""The capacity decision is exact at both of its tiers.

The service first compares the summed seats of every overlapping booking (an upper bound of the
peak, one number from the database) and sweeps the overlapping rows only when that bound leaves
no room. Here the capacity is set right at the edges of both tiers (the bound and the true peak,
plus or minus one seat) on a grid of bookings sharing edges, on each backend: a booking, an edit
and an extension go through exactly when the seats fit at every instant, and a refusal carries
the true peak and the free seats. And each tier reads only what it needs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from booking.domain.capacity import Booked, peak
from booking.domain.errors import CapacityExceeded
from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.store.reservations import ReservationRepository
from tests.store.bulk import load_bookings
from tests.store.conftest import T0, Store

LONGEST = timedelta(days=14)  # the service's absolute_max_window_days
GRID = [(15, 2), (30, 4), (45, 1), (60, 4), (120, 2), (8 * 60, 1), (2 * 24 * 60, 1), (12 * 24 * 60, 1)]
QUARTER = timedelta(minutes=15)
PANEL = ReservationKind.PANEL


def _near(store: Store, start: datetime, end: datetime, exclude: int | None = None) -> list[Booked]:
    with store.engine.connect() as conn:
        return ReservationRepository(conn).booked_overlapping(start, end, LONGEST, exclude)


def _capacities(near: list[Booked], start: datetime, end: datetime, seats: int) -> list[int]:
    """Capacities at the edges of both tiers: the bound's and the true peak's, +-1 seat."""
    held = peak(near, start, end)[0]
    summed = sum(b.seats for b in near)
    return sorted({c for c in (held + seats - 1, held + seats, summed + seats - 1, summed + seats) if c > 0})


def test_a_booking_goes_through_exactly_when_its_seats_fit(store: Store) -> None:
    load_bookings(store.engine, 300, T0, 2, T0, seed=9, lengths=GRID, step_minutes=15, max_seats=9)
    profile = store.service().profile_named("edges")
    rand = random.Random(8)
    seen = {"booked by the bound": 0, "booked by the sweep": 0, "refused": 0}
    for _ in range(40):
        start = T0 + QUARTER * rand.randrange(4, 4 * 24 * 2)
        end = start + QUARTER * rand.randint(1, 16)
        seats = rand.randint(1, 9)
        near = _near(store, start, end)
        held, summed = peak(near, start, end)[0], sum(b.seats for b in near)
        capacity = rand.choice(_capacities(near, start, end, seats))
        service = store.service(system_capacity=capacity)
        req = BookingRequest(PANEL, start, end, seats)
        if held + seats <= capacity:
            service.request(profile.id, req, operator=True)
            seen["booked by the bound" if summed + seats <= capacity else "booked by the sweep"] += 1
        else:
            with pytest.raises(CapacityExceeded) as refused:
                service.request(profile.id, req, operator=True)
            assert refused.value.refusal.peak_reserved == held
            assert refused.value.refusal.free_seats == max(0, capacity - held)
            seen["refused"] += 1
    assert all(seen.values()), seen  # every tier decided some


def test_an_edit_and_an_extension_are_checked_without_the_booking_itself(store: Store) -> None:
    load_bookings(store.engine, 300, T0, 2, T0, seed=10, lengths=GRID, step_minutes=15, max_seats=9)
    setup = store.service(system_capacity=1_000_000)
    profile = setup.profile_named("edges")
    rand = random.Random(12)
    for _ in range(12):
        start = T0 + QUARTER * rand.randrange(4, 4 * 24 * 2)
        mine = setup.request(profile.id, BookingRequest(PANEL, start, start + 4 * QUARTER, 3), operator=True)
        assert mine.id is not None and mine.ends_at is not None

        # More seats for the same hour: its own 3 seats are not counted against it.
        near = _near(store, start, mine.ends_at, exclude=mine.id)
        held = peak(near, start, mine.ends_at)[0]
        for capacity in _capacities(near, start, mine.ends_at, 5):
            edit = store.service(system_capacity=capacity)
            if held + 5 <= capacity:
                assert edit.edit(profile.id, mine.id, seats=5).seats == 5
                edit.edit(profile.id, mine.id, seats=3)  # back, for the next capacity
            else:
                with pytest.raises(CapacityExceeded):
                    edit.edit(profile.id, mine.id, seats=5)

        # Running on: the seats must fit over the added time only.
        until = mine.ends_at + QUARTER * rand.randint(1, 8)
        near = _near(store, mine.ends_at, until, exclude=mine.id)
        held = peak(near, mine.ends_at, until)[0]
        for capacity in _capacities(near, mine.ends_at, until, 3):
            extended = store.service(system_capacity=capacity).try_extend(mine.id, until)
            assert extended is (held + 3 <= capacity)
            with store.engine.begin() as conn:  # undone, for the next capacity
                ReservationRepository(conn).update_reservation(mine)
        setup.delete(profile.id, mine.id)


def test_each_check_reads_only_what_it_needs(
    service: BookingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A booking reads the ledger over its own window, whether it fits or not, and never the
    bookings' rows; only a refusal reads the slots of the wider span for its suggestions."""
    reads: list[tuple[str, datetime, datetime]] = []

    def spying(name: str) -> Any:
        real = getattr(ReservationRepository, name)

        def spy(self: ReservationRepository, start: datetime, end: datetime, *args: Any) -> Any:
            reads.append((name, start, end))
            return real(self, start, end, *args)

        return spy

    names = ("seats_overlapping", "peak_reserved", "booked_overlapping", "ledger_peak", "ledger_busiest")
    for name in (*names, "ledger_slots"):
        monkeypatch.setattr(ReservationRepository, name, spying(name))

    day = T0 + timedelta(days=1)

    def at(minutes: int) -> datetime:
        return day + timedelta(minutes=minutes)

    service.book(at(0), 60, 5)  # 10 seats in all (the fixture)
    service.book(at(60), 60, 5)
    assert reads == [("ledger_peak", at(0), at(60)), ("ledger_peak", at(60), at(120))]
    reads.clear()
    service.book(at(30), 60, 5)  # both overlap, but never at once (5 held): it fits
    assert reads == [("ledger_peak", at(30), at(90))]
    reads.clear()
    with pytest.raises(CapacityExceeded) as refused:
        service.book(at(30), 60, 1)  # 10 held over 30-60
    assert refused.value.refusal.peak_reserved == 10
    assert refused.value.refusal.busiest_at == at(30)
    assert [r[0] for r in reads] == ["ledger_peak", "ledger_busiest", "ledger_slots"]
    # The suggestions: slot by slot within 2 h first; the nearest before and after lie there.
    assert reads[2][1:] == (at(30) - timedelta(hours=2), at(90) + timedelta(hours=2))
