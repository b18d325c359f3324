"""The booked end is decided once and kept (booking.services.endings over the fake store): the
first decision stands whatever the capacity says later, the warning is marked, an extension
moves the reservation's end in the same go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.live import EndOutcome
from booking.services.booking import BookingService
from booking.services.endings import EndDecisions
from booking.settings import BookingSettings
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PERIOD = timedelta(minutes=30)


def setup() -> tuple[FakeClock, BookingService, EndDecisions]:
    uow, clock = FakeUnitOfWork(), FakeClock(T0)
    settings = BookingSettings(system_capacity=10)
    booking = BookingService(uow, clock, settings)
    return clock, booking, EndDecisions(uow, clock, booking, settings)


def ends(booking: BookingService, reservation_id: int) -> datetime | None:
    r = booking.reservation(reservation_id)
    assert r is not None
    return r.ends_at


def test_an_end_with_room_after_it_is_extended_once_and_the_decision_is_kept() -> None:
    clock, booking, endings = setup()
    r = booking.book(T0 - timedelta(minutes=55), 60, seats=4)
    assert r.id is not None and r.ends_at is not None
    clock.advance(timedelta(minutes=1))
    first = endings.decide(r.id, r.ends_at, r.ends_at + PERIOD)
    assert first.outcome is EndOutcome.EXTENDED and first.decided_at == T0 + timedelta(minutes=1)
    assert ends(booking, r.id) == r.ends_at + PERIOD
    # asked again (a restarted controller): the stored decision, not a second extension
    assert endings.decide(r.id, r.ends_at, r.ends_at + 2 * PERIOD) == first
    assert ends(booking, r.id) == r.ends_at + PERIOD


def test_an_end_whose_seats_are_needed_is_warned_and_stays_warned_when_they_free_up() -> None:
    clock, booking, endings = setup()
    r = booking.book(T0 - timedelta(minutes=55), 60, seats=4)
    assert r.id is not None and r.ends_at is not None
    blocker = booking.book(r.ends_at, 60, seats=10)
    warned = endings.decide(r.id, r.ends_at, r.ends_at + PERIOD)
    assert warned.outcome is EndOutcome.WARNED and warned.warned_at is None
    assert blocker.id is not None
    booking.cancel(blocker.id)  # the seats free up: the members were warned already
    assert endings.decide(r.id, r.ends_at, r.ends_at + PERIOD).outcome is EndOutcome.WARNED
    clock.advance(timedelta(seconds=5))
    endings.warned(r.id, r.ends_at)
    endings.warned(r.id, r.ends_at + timedelta(seconds=1))  # no decision for that end: nothing
    again = endings.decide(r.id, r.ends_at, r.ends_at + PERIOD)
    assert again.warned_at == T0 + timedelta(seconds=5)
    assert ends(booking, r.id) == r.ends_at


def test_a_moderator_extends_a_running_conference_when_the_seats_are_free() -> None:
    clock, booking, endings = setup()
    r = booking.book(T0 - timedelta(minutes=30), 60, seats=4)
    assert r.id is not None and r.ends_at is not None
    number = r.room.conference_number
    assert endings.extend_now(number, PERIOD) is True
    assert ends(booking, r.id) == r.ends_at + PERIOD
    booking.book(r.ends_at + PERIOD, 60, seats=10)  # the seats are needed after the new end
    assert endings.extend_now(number, PERIOD) is False
    assert ends(booking, r.id) == r.ends_at + PERIOD
    assert endings.extend_now(booking.book(None, None, seats=2).room.conference_number, PERIOD) is None
    assert endings.extend_now("999999", PERIOD) is None  # no such conference
    clock.advance(timedelta(hours=2))  # over: nothing to extend
    assert endings.extend_now(number, PERIOD) is None


def test_an_upcoming_conference_is_not_running_and_no_end_moves_past_the_longest_window() -> None:
    _, booking, endings = setup()
    later = booking.book(T0 + timedelta(hours=1), 60, seats=2)
    assert endings.extend_running(later, PERIOD) is None  # not open for dialling in yet
    assert ends(booking, later.id) == later.ends_at
    longest = timedelta(days=BookingSettings().absolute_max_window_days)
    # 20 minutes short of the longest window, ending 10 minutes from now.
    minutes = int((longest - timedelta(minutes=20)).total_seconds() // 60)
    r = booking.book(T0 - longest + timedelta(minutes=30), minutes, seats=2)
    assert r.ends_at is not None
    assert endings.extend_running(r, PERIOD) is False  # 14 days and 10 minutes: over the bound
    assert ends(booking, r.id) == r.ends_at
    assert endings.extend_running(r, timedelta(minutes=20)) is True  # exactly the bound
