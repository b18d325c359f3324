"""Live seats against a real database, on SQLite and PostgreSQL: an anytime room's live members
hold seats in the ledger the bookings are checked against (R7). A join is refused when the system
is full and a replay is harmless; a booking, an edit, an approval and an extension must fit beside
the live seats; reconcile frees the seats of the members no longer there. The races:
tests/store/test_concurrency.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from booking.domain.errors import CapacityExceeded
from booking.domain.live import LiveSeat
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.seats import LiveSeats
from booking.settings import BookingSettings
from tests.store.conftest import T0, Store

CAPACITY = 10
PANEL = ReservationKind.PANEL
HOLD = timedelta(minutes=BookingSettings().live_seat_hold_minutes)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def seats(store: Store) -> LiveSeats:
    return LiveSeats(store.uow, store.clock, BookingSettings(system_capacity=CAPACITY))


@pytest.fixture
def anytime(service: BookingService) -> Reservation:
    return service.book(None, None, CAPACITY)


def join(seats: LiveSeats, room: Reservation, *uniqueids: str) -> list[bool]:
    assert room.id is not None
    return [seats.hold(room.id, u) for u in uniqueids]


def stored(store: Store) -> list[LiveSeat]:
    with store.uow(read_only=True) as tx:
        return tx.live.seats()


def test_a_join_holds_a_seat_and_a_replay_changes_nothing(
    store: Store, seats: LiveSeats, anytime: Reservation
) -> None:
    assert join(seats, anytime, "m1") == [True]
    store.clock.advance(timedelta(minutes=5))
    assert join(seats, anytime, "m1") == [True]  # the same channel again
    assert stored(store) == [LiveSeat("m1", anytime.id or 0, T0, T0 + HOLD)]
    assert seats.held() == 1


def test_a_join_is_refused_when_the_system_is_full(
    store: Store, service: BookingService, seats: LiveSeats, anytime: Reservation
) -> None:
    service.book(at(10), 60, 7)  # within the hold: the joins must fit beside it
    assert join(seats, anytime, "m1", "m2", "m3", "m4") == [True, True, True, False]
    assert [s.uniqueid for s in stored(store)] == ["m1", "m2", "m3"]  # nothing held for m4
    assert join(seats, anytime, "m1") == [True]  # a member already in is never refused
    seats.release(["m2"])
    assert join(seats, anytime, "m4") == [True]


def test_a_timed_booking_over_the_live_seats_is_refused_with_them_in_its_peak(
    store: Store, service: BookingService, seats: LiveSeats, anytime: Reservation
) -> None:
    service.book(at(0), 120, 4)
    join(seats, anytime, "m1", "m2", "m3")
    with pytest.raises(CapacityExceeded) as refused:
        service.book(at(5), 60, 4)  # 4 + 3 live + 4 = 11
    refusal = refused.value.refusal
    assert (refusal.peak_reserved, refusal.free_seats) == (7, 3)
    assert refusal.suggested_starts[0] == T0 + HOLD  # where the live seats are no longer counted
    assert service.book(refusal.suggested_starts[0], 60, 4).status is ReservationStatus.ACTIVE


def test_an_edit_and_an_approval_count_the_live_seats(
    store: Store, seats: LiveSeats, anytime: Reservation
) -> None:
    service = store.service(system_capacity=CAPACITY, panel_max_seats=5)
    profile = service.profile_named("editor")
    mine = service.request(profile.id, BookingRequest(PANEL, at(10), at(40), 2))
    big = service.request(profile.id, BookingRequest(PANEL, at(20), at(80), 6))  # over 5: queued
    assert mine.id is not None and big.id is not None and big.status is ReservationStatus.PENDING
    members = [f"m{i}" for i in range(6)]
    assert join(seats, anytime, *members) == [True] * 6  # 2 + 6 live: a pending request holds nothing
    with pytest.raises(CapacityExceeded):
        service.edit(profile.id, mine.id, seats=5)  # 5 + 6 live
    assert service.edit(profile.id, mine.id, seats=4).seats == 4  # exactly full
    seats.release(members[1:])
    with pytest.raises(CapacityExceeded) as refused:
        service.approve(big.id)  # 4 + 6 fit, but not beside the one member left
    assert refused.value.refusal.peak_reserved == 5
    seats.release(members)
    assert service.approve(big.id).status is ReservationStatus.ACTIVE


def test_an_extension_counts_the_live_seats(
    store: Store, service: BookingService, seats: LiveSeats, anytime: Reservation
) -> None:
    timed = service.book(at(40), 30, 6)  # past the joins' hold
    assert timed.id is not None
    members = [f"m{i}" for i in range(5)]
    assert join(seats, anytime, *members) == [True] * 5
    store.clock.advance(timedelta(minutes=65))  # five minutes before its end: they still talk
    assert seats.renew(members) == 5
    assert not service.try_extend(timed.id, at(85))  # its 6 beside the 5 live
    assert service.reservation(timed.id) == timed
    seats.release(members[:1])
    assert service.try_extend(timed.id, at(85))


def test_renew_moves_the_seats_ahead_and_reconcile_frees_the_absent(
    store: Store, seats: LiveSeats, anytime: Reservation
) -> None:
    join(seats, anytime, "m1", "m2", "m3")
    store.clock.advance(timedelta(minutes=20))
    assert seats.renew(["m1", "m2", "gone"]) == 2
    assert {s.uniqueid: s.held_until for s in stored(store)} == {
        "m1": at(20) + HOLD,
        "m2": at(20) + HOLD,
        "m3": T0 + HOLD,
    }
    assert seats.reconcile({"m2", "m3", "m9"}) == 1
    assert [s.uniqueid for s in stored(store)] == ["m2", "m3"]
    store.clock.advance(HOLD - timedelta(minutes=20))  # m3 was not renewed: no longer held
    assert seats.held() == 1
    assert seats.release(["m2", "m3"]) == 2
    assert seats.held() == 0 and stored(store) == []
