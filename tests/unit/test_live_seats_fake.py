"""Live seats over the in-memory unit of work (tests/support/fakes): an anytime room's live
members hold seats in the ledger the bookings are checked against (R7), so a join is refused
when the system is full, and a booking or an extension that reaches into their seats must fit
beside them. The same against SQLite and PostgreSQL: tests/store/test_live_seats_store.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.errors import CapacityExceeded
from booking.domain.live import LiveSeat
from booking.domain.model import Reservation
from booking.services.booking import BookingService
from booking.services.seats import LiveSeats
from booking.settings import BookingSettings
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOLD = timedelta(minutes=BookingSettings().live_seat_hold_minutes)


class Bridge:
    """A booking service and the live seats over one fake store with 10 seats."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.clock = FakeClock(T0)
        settings = BookingSettings(system_capacity=10)
        self.booking = BookingService(self.uow, self.clock, settings)
        self.seats = LiveSeats(self.uow, self.clock, settings)
        self.anytime = self.booking.book(None, None, 10)

    def join(self, *uniqueids: str, room: Reservation | None = None) -> list[bool]:
        r = room or self.anytime
        return [self.seats.hold(r.id, u) for u in uniqueids]

    def stored(self) -> list[LiveSeat]:
        return self.uow.view().live.seats()


@pytest.fixture
def bridge() -> Bridge:
    return Bridge()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_an_anytime_room_reserves_nothing_in_advance(bridge: Bridge) -> None:
    # Its 10 seats are a maximum for its members (R8), not seats taken from the others.
    assert bridge.booking.book(at(15), 60, seats=10).seats == 10
    assert bridge.seats.held() == 0


def test_a_live_member_holds_a_seat_from_the_join_for_the_hold(bridge: Bridge) -> None:
    assert bridge.join("m1") == [True]
    assert bridge.stored() == [LiveSeat("m1", bridge.anytime.id, T0, T0 + HOLD)]
    assert bridge.seats.held() == 1


def test_a_replayed_hold_is_harmless(bridge: Bridge) -> None:
    bridge.join("m1")
    before = bridge.uow.committed
    bridge.clock.advance(timedelta(minutes=5))
    assert bridge.join("m1") == [True]  # the same channel again: held already
    assert bridge.uow.committed == before  # nothing moved, nothing added
    assert bridge.seats.held() == 1


def test_a_join_is_refused_when_the_timed_bookings_and_the_live_seats_fill_the_system(
    bridge: Bridge,
) -> None:
    bridge.booking.book(at(20), 60, seats=8)  # starts within the hold: the joins must fit beside it
    assert bridge.join("m1", "m2") == [True, True]
    before = bridge.uow.committed
    assert bridge.join("m3") == [False]
    assert bridge.uow.committed == before  # nothing held for the refused
    assert bridge.seats.held() == 2
    bridge.seats.release(["m1"])
    assert bridge.join("m3") == [True]  # a seat was freed


def test_live_seats_alone_can_fill_the_system(bridge: Bridge) -> None:
    other = bridge.booking.book(None, None, 10)
    assert bridge.join(*(f"a{i}" for i in range(6))) == [True] * 6
    assert bridge.join(*(f"b{i}" for i in range(5)), room=other) == [True] * 4 + [False]


def test_a_booking_past_the_hold_does_not_count_against_a_join(bridge: Bridge) -> None:
    bridge.booking.book(at(30), 60, seats=10)  # [T0 + 30, ...) and the hold [T0, T0 + 30)
    assert bridge.join("m1") == [True]


def test_a_timed_booking_must_fit_beside_the_live_members(bridge: Bridge) -> None:
    bridge.join("m1", "m2", "m3")
    with pytest.raises(CapacityExceeded) as refused:
        bridge.booking.book(at(10), 60, seats=8)
    refusal = refused.value.refusal
    assert (refusal.peak_reserved, refusal.free_seats) == (3, 7)  # the live seats are the peak
    assert refusal.suggested_starts[0] == T0 + HOLD  # once they are no longer counted
    assert bridge.booking.book(at(10), 60, seats=7).seats == 7
    assert bridge.booking.book(T0 + HOLD, 60, seats=3).seats == 3  # 7 + 3 there: full, but fits


def test_a_copy_and_a_change_fit_beside_the_live_members(bridge: Bridge) -> None:
    past = bridge.booking.book(at(-120), 60, seats=8)
    later = bridge.booking.book(at(90), 60, seats=8)
    profile = past.room.profile_id
    bridge.join("m1", "m2", "m3")
    with pytest.raises(CapacityExceeded) as refused:
        bridge.booking.copy(profile, past.id or 0, at(15))  # R48: the same 8 seats, started again
    assert refused.value.refusal.peak_reserved == 3
    with pytest.raises(CapacityExceeded):
        bridge.booking.edit(profile, later.id or 0, starts_at=at(20), ends_at=at(80))
    assert bridge.booking.copy(profile, past.id or 0, T0 + HOLD).seats == 8  # once they are not counted


def test_an_extension_counts_the_live_members(bridge: Bridge) -> None:
    timed = bridge.booking.book(at(40), 30, seats=6)  # past the joins' hold: not counted by them
    assert timed.id is not None
    assert bridge.join("m1", "m2", "m3", "m4", "m5") == [True] * 5
    bridge.clock.advance(timedelta(minutes=65))  # five minutes before its end, they still talk
    bridge.seats.renew(["m1", "m2", "m3", "m4", "m5"])
    assert not bridge.booking.try_extend(timed.id, at(85))  # its 6 beside 5 live: 11
    assert bridge.booking.reservation(timed.id) == timed
    bridge.seats.release(["m5"])
    assert bridge.booking.try_extend(timed.id, at(85))  # 6 + 4: exactly full


def test_renewing_keeps_the_seats_counted_ahead(bridge: Bridge) -> None:
    bridge.join("m1", "m2")
    bridge.clock.advance(timedelta(minutes=20))
    assert bridge.seats.renew(["m1", "m2", "gone"]) == 2
    assert [s.held_until for s in bridge.stored()] == [at(20) + HOLD] * 2
    with pytest.raises(CapacityExceeded):  # past the first hold, within the renewed one
        bridge.booking.book(at(40), 60, seats=9)
    assert bridge.seats.renew([]) == 0


def test_a_seat_not_renewed_stops_counting_at_its_end(bridge: Bridge) -> None:
    bridge.join("m1")
    bridge.clock.advance(HOLD)
    assert bridge.seats.held() == 0
    assert bridge.booking.book(at(40), 60, seats=10).seats == 10


def test_release_frees_the_seats_of_those_who_left(bridge: Bridge) -> None:
    bridge.join("m1", "m2")
    assert bridge.seats.release(["m1", "nobody"]) == 1
    assert [s.uniqueid for s in bridge.stored()] == ["m2"]
    commits = bridge.uow.commits
    assert bridge.seats.release([]) == 0
    assert bridge.uow.commits == commits  # nothing to do: no unit of work


def test_reconcile_releases_every_seat_whose_member_is_gone(bridge: Bridge) -> None:
    bridge.join("m1", "m2", "m3")
    assert bridge.seats.reconcile({"m2", "not-held"}) == 2
    assert [s.uniqueid for s in bridge.stored()] == ["m2"]
    assert bridge.seats.reconcile({"m2"}) == 0
    assert bridge.seats.reconcile(set()) == 1
    assert bridge.seats.held() == 0
