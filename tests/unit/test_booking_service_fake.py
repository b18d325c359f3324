"""BookingService over the in-memory unit of work (tests/support/fakes): seats are held and
refused as the store would hold and refuse them, and a unit of work that fails keeps nothing.
The same behaviours against SQLite and PostgreSQL: tests/store/test_booking_store.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.ports import Transaction
from booking.settings import BookingSettings
from booking.store.errors import StoreBusy
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = T0 + timedelta(hours=2)
LONGEST = timedelta(days=BookingSettings().absolute_max_window_days)


class Booking:
    """A booking service over a fake store with 10 seats, and what the store holds."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.clock = FakeClock(T0)
        self.service = BookingService(self.uow, self.clock, BookingSettings(system_capacity=10))

    def seats_held(self, start: datetime = START, minutes: int = 60) -> int:
        return self.uow.view().reservations.peak_reserved(start, start + timedelta(minutes=minutes), LONGEST)

    def stored(self, r: Reservation) -> Reservation | None:
        return self.uow.view().reservations.get_reservation(r.id)

    def live(self, number: str) -> bool:
        return number in self.uow.view().reservations.live_numbers()


@pytest.fixture
def b() -> Booking:
    return Booking()


def test_a_booking_holds_its_seats_and_its_number(b: Booking) -> None:
    r = b.service.book(START, 60, seats=6)

    assert b.stored(r) == r
    assert r.status is ReservationStatus.ACTIVE
    assert b.seats_held() == 6
    assert b.live(r.room.conference_number)
    assert b.service.reservations_of("operator") == [r]


def test_a_booking_over_the_capacity_is_refused_with_alternatives_and_stores_nothing(b: Booking) -> None:
    first = b.service.book(START, 60, seats=6)
    before = b.uow.committed

    with pytest.raises(CapacityExceeded) as refused:
        b.service.book(START + timedelta(minutes=30), 60, seats=5)

    refusal = refused.value.refusal
    assert (refusal.peak_reserved, refusal.free_seats) == (6, 4)
    assert START + timedelta(minutes=60) in refusal.suggested_starts  # once the first has ended
    assert b.uow.committed == before  # no room, no reservation, no number taken
    assert b.service.reservations_of("operator") == [first]
    assert b.seats_held(START, 120) == 6


def test_back_to_back_bookings_share_the_seats(b: Booking) -> None:
    b.service.book(START, 60, seats=10)
    after = b.service.book(START + timedelta(minutes=60), 60, seats=10)  # [a, b) then [b, c)
    assert b.stored(after) == after


def test_cancelling_frees_the_seats_and_the_number(b: Booking) -> None:
    r = b.service.book(START, 60, seats=8)

    cancelled = b.service.cancel(r.id)

    assert cancelled.id == r.id
    stored = b.stored(r)
    assert stored is not None and stored.status is ReservationStatus.DELETED
    assert b.seats_held() == 0
    assert not b.live(r.room.conference_number)
    assert b.service.book(START, 60, seats=10).seats == 10  # the seats are there again
    with pytest.raises(NotFound):
        b.service.cancel(r.id)  # once deleted, it is gone


def test_a_change_is_checked_against_the_others_but_not_against_itself(b: Booking) -> None:
    other = b.service.book(START, 60, seats=4)
    r = b.service.book(START, 60, seats=6)
    profile = r.room.profile_id

    grown = b.service.edit(profile, r.id, seats=6, title="weekly")  # its own seats do not count twice
    assert (grown.seats, grown.title) == (6, "weekly")
    with pytest.raises(CapacityExceeded):
        b.service.edit(profile, r.id, seats=7)

    assert b.stored(r) == grown  # the refused change left the reservation as it was
    moved = b.service.edit(
        profile, r.id, starts_at=START + timedelta(hours=1), ends_at=START + timedelta(hours=2)
    )
    assert b.stored(moved) == moved
    assert b.seats_held() == other.seats
    assert moved.room == r.room  # number and PINs stay (R24)


def test_a_hook_that_fails_inside_the_booking_leaves_nothing_half_stored(b: Booking) -> None:
    def fails(_tx: Transaction, made: Reservation) -> None:
        raise RuntimeError(f"the invitees of {made.id} could not be stored")

    profile = b.service.profile_named("operator").id
    before = b.uow.committed
    rollbacks = b.uow.rollbacks
    with pytest.raises(RuntimeError):
        b.service.request(profile, _panel(seats=3), operator=True, within=fails)

    assert b.uow.committed == before  # the room and the reservation went with the failure
    assert b.uow.rollbacks == rollbacks + 1
    assert b.seats_held() == 0


def test_a_commit_that_fails_keeps_nothing_and_the_next_booking_succeeds(b: Booking) -> None:
    b.service.profile_named("operator")
    before = b.uow.committed
    b.uow.fail_next_commit(StoreBusy("no turn to write"))

    with pytest.raises(StoreBusy):
        b.service.book(START, 60, seats=3)

    assert b.uow.committed == before
    r = b.service.book(START, 60, seats=3)
    assert b.stored(r) == r and b.seats_held() == 3


def test_a_profile_holds_at_most_its_active_rooms_until_one_is_deleted(b: Booking) -> None:
    profile = b.service.profile_named("someone").id
    limit = BookingSettings().max_active_per_profile
    made = [b.service.request(profile, _panel(seats=1, hour=h)) for h in range(limit)]

    with pytest.raises(RuleViolation, match="active rooms per profile"):
        b.service.request(profile, _panel(seats=1, hour=limit))

    b.service.delete(profile, made[0].id)
    assert b.service.request(profile, _panel(seats=1, hour=limit)).status is ReservationStatus.ACTIVE
    assert len(b.service.visible_reservations(profile)) == limit


def _panel(seats: int, hour: int = 0) -> BookingRequest:
    starts = START + timedelta(hours=hour)
    return BookingRequest(ReservationKind.PANEL, starts, starts + timedelta(minutes=60), seats)
