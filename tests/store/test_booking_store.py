"""The booking use cases against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import ReservationKind, ReservationStatus, Role, RoomDraft, Verdict
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.dialin import DialInService, DialInStatus
from booking.services.seats import LiveSeats
from booking.settings import BookingSettings
from booking.store.errors import Duplicate
from booking.store.reservations import ReservationRepository
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0, Store

PANEL = ReservationKind.PANEL
DAY = T0 + timedelta(days=1)  # a window well past the lead time


def at(minutes: int) -> BookingRequest:
    """A 60-minute panel request starting ``minutes`` after DAY, for 1 seat."""
    start = DAY + timedelta(minutes=minutes)
    return BookingRequest(PANEL, start, start + timedelta(minutes=60), 1)


def panel(start_min: int, length_min: int, seats: int) -> BookingRequest:
    start = DAY + timedelta(minutes=start_min)
    return BookingRequest(PANEL, start, start + timedelta(minutes=length_min), seats)


def test_book_then_dial_in(store: Store, service: BookingService, dialin: DialInService) -> None:
    r = service.book(DAY, 60, 5)
    assert r.id is not None and r.status is ReservationStatus.ACTIVE
    assert r.starts_at == DAY and r.ends_at == DAY + timedelta(minutes=60)

    store.clock.advance(timedelta(days=1))  # now = the start
    number, pin, admin = r.room.conference_number, r.room.pin, r.room.admin_pin
    joined = dialin.dial_in(number, pin)
    assert joined.admitted and joined.admission is not None and joined.admission.role is Role.PARTICIPANT
    assert joined.reservation == r
    moderator = dialin.dial_in(number, admin)
    assert moderator.admission is not None and moderator.admission.role is Role.MODERATOR
    wrong = dialin.dial_in(number, "000000")
    assert wrong.status is DialInStatus.BAD_CREDENTIALS and wrong.reservation is None
    # No such conference sounds exactly like a wrong PIN.
    unknown = dialin.dial_in("999999" if number != "999999" else "888888", pin)
    assert unknown.status is DialInStatus.BAD_CREDENTIALS and unknown.reservation is None
    # Stored times come back as aware UTC datetimes, to the microsecond.
    assert joined.reservation is not None and joined.reservation.starts_at is not None
    assert joined.reservation.starts_at.utcoffset() == timedelta(0)

    store.clock.advance(timedelta(minutes=61))
    over = dialin.dial_in(number, pin)
    assert over.admission is not None and over.admission.verdict is Verdict.OVER


def test_an_anytime_room_reserves_nothing_in_advance_but_its_live_members_hold_seats(
    store: Store, service: BookingService, dialin: DialInService
) -> None:
    anytime = service.book(None, None, 10)
    assert anytime.kind is ReservationKind.ANYTIME and anytime.starts_at is None and anytime.id is not None
    assert service.book(DAY, 60, 10).status is ReservationStatus.ACTIVE  # its 10 seats: a maximum
    assert dialin.dial_in(anytime.room.conference_number, anytime.room.pin).admitted
    # A member who joins holds a seat now (booking.services.seats): a booking now must fit beside it.
    assert LiveSeats(store.uow, store.clock, BookingSettings(system_capacity=10)).hold(anytime.id, "m1")
    with pytest.raises(CapacityExceeded) as refused:
        service.book(T0 + timedelta(minutes=5), 60, 10)
    assert refused.value.refusal.peak_reserved == 1
    assert service.book(T0 + timedelta(minutes=5), 60, 9).status is ReservationStatus.ACTIVE


def test_live_numbers_are_unique_in_the_database(store: Store) -> None:
    uow = SqlUnitOfWork(store.engine)
    with uow() as repo:
        pid = repo.reservations.profile_id("p", T0)
        first = repo.reservations.add_room(RoomDraft("482915", "111222", "333444", pid), T0)
        assert "482915" in repo.reservations.live_numbers()
        assert "482916" not in repo.reservations.live_numbers()
    with pytest.raises(Duplicate), uow() as repo:
        repo.reservations.add_room(RoomDraft("482915", "555666", "777888", pid), T0)
    # Once the first room is released its number may be given out again.
    with uow() as repo:
        assert first.id is not None
        repo.reservations.release_room(first.id, T0)
        assert "482915" not in repo.reservations.live_numbers()
        again = repo.reservations.add_room(RoomDraft("482915", "555666", "777888", pid), T0)
        assert again.id != first.id
    with pytest.raises(Duplicate), uow() as repo:
        repo.reservations.add_room(RoomDraft("482915", "121314", "151617", pid), T0)


def test_service_never_hands_out_a_live_number(service: BookingService) -> None:
    numbers = [service.book(DAY + timedelta(hours=i % 5), 30, 1).room.conference_number for i in range(40)]
    assert len(set(numbers)) == len(numbers)


def test_capacity_refused_at_the_exact_boundary(service: BookingService) -> None:
    service.book(DAY, 60, 6)
    service.book(DAY, 60, 4)  # 6 + 4 = 10: exactly full
    with pytest.raises(CapacityExceeded) as refused:
        service.book(DAY + timedelta(minutes=59), 60, 1)
    assert refused.value.refusal.peak_reserved == 10
    assert refused.value.refusal.free_seats == 0


def test_capacity_one_over_is_refused_with_what_would_fit(service: BookingService) -> None:
    service.book(DAY, 60, 6)
    with pytest.raises(CapacityExceeded) as refused:
        service.book(DAY + timedelta(minutes=30), 60, 5)  # 6 + 5 = 11 > 10
    assert refused.value.refusal.peak_reserved == 6
    assert refused.value.refusal.free_seats == 4
    # The suggested starts are real: each one books.
    suggested = refused.value.refusal.suggested_starts
    assert suggested
    assert service.book(suggested[0], 60, 5).status is ReservationStatus.ACTIVE


def test_back_to_back_windows_do_not_overlap(service: BookingService) -> None:
    service.book(DAY, 60, 10)  # [a, b)
    after = service.book(DAY + timedelta(minutes=60), 60, 10)  # [b, c)
    before = service.book(DAY - timedelta(minutes=60), 60, 10)  # [a - 1h, a)
    assert after.status is before.status is ReservationStatus.ACTIVE
    with pytest.raises(CapacityExceeded):
        service.book(DAY + timedelta(minutes=119), 60, 1)


def test_long_bookings_are_counted_wherever_they_started(service: BookingService) -> None:
    """A 13-day booking started long before the window still holds its seats in it."""
    service.book(DAY, 13 * 24 * 60, 7)
    late = DAY + timedelta(days=12, hours=23)
    with pytest.raises(CapacityExceeded):
        service.book(late, 30, 4)
    assert service.book(late, 30, 3).status is ReservationStatus.ACTIVE
    assert service.book(DAY + timedelta(days=13), 30, 10).status is ReservationStatus.ACTIVE


def test_edit_rechecks_capacity_without_counting_itself(store: Store, service: BookingService) -> None:
    profile = service.profile_named("editor")
    mine = service.request(profile.id, panel(0, 60, 6))
    assert mine.id is not None
    # Alone in the window it may grow to the whole capacity: its own 6 seats are not counted.
    grown = service.edit(profile.id, mine.id, seats=10)
    assert grown.seats == 10
    service.edit(profile.id, mine.id, seats=6)
    service.book(DAY, 60, 4)
    with pytest.raises(CapacityExceeded):
        service.edit(profile.id, mine.id, seats=7)
    # Moving it where the other booking is not: fits again; the refusal changed nothing.
    moved = service.edit(
        profile.id, mine.id, starts_at=DAY + timedelta(hours=2), ends_at=DAY + timedelta(hours=3), seats=10
    )
    assert (moved.seats, moved.starts_at) == (10, DAY + timedelta(hours=2))
    assert service.get(profile.id, mine.id) == moved
    with pytest.raises(NotFound):
        service.edit(service.profile_named("other").id, mine.id, seats=1)


def test_delete_frees_seats_slot_and_number(store: Store, dialin: DialInService) -> None:
    service = store.service(system_capacity=10, max_active_per_profile=3)
    profile = service.profile_named("deleter")
    mine = [service.request(profile.id, panel(60 * i, 60, 10 if i == 0 else 1)) for i in range(3)]
    with pytest.raises(RuleViolation) as too_many:
        service.request(profile.id, panel(300, 60, 1))
    assert too_many.value.code == "too_many_rooms"
    with pytest.raises(CapacityExceeded):
        service.book(DAY, 60, 1)

    first = mine[0]
    assert first.id is not None
    service.delete(profile.id, first.id)
    assert service.request(profile.id, panel(300, 60, 1)).status is ReservationStatus.ACTIVE  # the slot
    assert service.book(DAY, 60, 10).status is ReservationStatus.ACTIVE  # the seats
    store.clock.advance(timedelta(days=1))
    gone = dialin.dial_in(first.room.conference_number, first.room.pin)  # the number
    assert gone.status is DialInStatus.BAD_CREDENTIALS
    with pytest.raises(NotFound):
        service.delete(profile.id, first.id)


def test_approve_of_a_queued_request_rechecks_capacity(store: Store) -> None:
    service = store.service(system_capacity=50, panel_max_seats=30)
    profile = service.profile_named("big")
    queued = service.request(profile.id, panel(0, 60, 40))  # over the 30-seat limit: waits
    assert queued.status is ReservationStatus.PENDING and queued.id is not None
    assert [r.id for r in service.queue()] == [queued.id]
    service.book(DAY + timedelta(minutes=30), 60, 20)  # a pending request holds nothing
    with pytest.raises(CapacityExceeded):
        service.approve(queued.id)  # 20 + 40 > 50
    assert [r.id for r in service.queue()] == [queued.id]

    fits = service.request(profile.id, panel(6 * 60, 60, 35))
    assert fits.status is ReservationStatus.PENDING and fits.id is not None
    approved = service.approve(fits.id)
    assert approved.status is ReservationStatus.ACTIVE
    with pytest.raises(CapacityExceeded):
        service.book(DAY + timedelta(hours=6), 60, 16)  # the approved 35 now hold their seats

    rejected = service.reject(queued.id, "too big")
    assert rejected.status is ReservationStatus.REJECTED
    assert service.queue() == []
    with pytest.raises(NotFound):
        service.approve(queued.id)


def test_a_booking_that_fits_reads_only_its_own_window(
    service: BookingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The capacity ledger's slots of its own window; never the rows, never the +-24 h.
    # Each read of the check in detail: tests/store/test_capacity_decision.py.
    reads: list[tuple[str, object, object]] = []

    def spying(name: str) -> Any:
        real = getattr(ReservationRepository, name)

        def spy(
            self: ReservationRepository, start: datetime, end: datetime, *args: Any, **kwargs: Any
        ) -> Any:
            reads.append((name, start, end))
            return real(self, start, end, *args, **kwargs)

        return spy

    for name in ("seats_overlapping", "peak_reserved", "booked_overlapping", "ledger_peak", "ledger_slots"):
        monkeypatch.setattr(ReservationRepository, name, spying(name))
    service.book(DAY, 60, 5)
    assert reads == [("ledger_peak", DAY, DAY + timedelta(minutes=60))]
