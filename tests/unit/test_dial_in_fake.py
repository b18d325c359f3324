"""DialInService over the in-memory unit of work (tests/support/fakes): which reservation a
number reaches, and the PIN guard's delays, lockouts and conference budget. The same against
SQLite and PostgreSQL, with parallel guessers: tests/store/test_pin_guessing.py."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.model import Reservation
from booking.services.booking import BookingService
from booking.services.dialin import DialInService, DialInStatus
from booking.services.usage import UsageService
from booking.settings import BookingSettings
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULES = BookingSettings(pin_per_caller=3, pin_per_conference=4, pin_lockout_minutes=60, pin_max_delay_s=16)
CALLER = "+420601000001"
_spoofed = itertools.count(100)


def spoofed() -> str:
    return f"+42077{next(_spoofed):07d}"


class Bridge:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.clock = FakeClock(T0)
        self.booking = BookingService(self.uow, self.clock, RULES)
        self.dialin = DialInService(self.uow, self.clock, RULES)
        self.usage = UsageService(self.uow, self.clock, RULES)

    def wrong(self, r: Reservation) -> str:
        return "0" * len(r.room.pin) if r.room.pin != "0" * len(r.room.pin) else "1" * len(r.room.pin)


@pytest.fixture
def bridge() -> Bridge:
    return Bridge()


def test_the_right_pin_admits_without_writing(bridge: Bridge) -> None:
    r = bridge.booking.book(None, None, 5)  # an anytime room: open now
    commits = bridge.uow.commits

    outcome = bridge.dialin.dial_in(r.room.conference_number, r.room.pin, CALLER)

    assert outcome.status is DialInStatus.DECIDED and outcome.admitted
    assert outcome.reservation == r
    assert bridge.uow.commits == commits  # decided in a read-only unit: nothing counted


def test_the_number_reaches_the_open_reservation_and_says_how_long_is_left(bridge: Bridge) -> None:
    r = bridge.booking.book(T0 + timedelta(minutes=2), 30, 5)  # opens 5 minutes early (R28)

    assert bridge.dialin.current_reservation(r.room.conference_number) == r
    assert bridge.dialin.remaining_seconds(r.room.conference_number) == 32 * 60
    assert bridge.dialin.current_reservation("000000") is None


def test_wrong_guesses_slow_the_caller_then_lock_them_out_even_with_the_right_pin(bridge: Bridge) -> None:
    r = bridge.booking.book(None, None, 5)
    number = r.room.conference_number

    delays = [bridge.dialin.dial_in(number, bridge.wrong(r), CALLER) for _ in range(RULES.pin_per_caller)]

    assert [o.status for o in delays] == [DialInStatus.BAD_CREDENTIALS] * RULES.pin_per_caller
    assert [o.delay_s for o in delays] == [1.0, 2.0, 4.0]  # doubling from the base delay
    locked = bridge.dialin.dial_in(number, r.room.pin, CALLER)
    assert locked.status is DialInStatus.CALLER_LOCKED and locked.reservation is None
    assert f"caller:{CALLER}" in {a.key for a in bridge.dialin.pin_lockouts()}
    assert bridge.dialin.dial_in(number, r.room.pin, spoofed()).admitted  # others still get in

    bridge.clock.advance(timedelta(minutes=RULES.pin_lockout_minutes))
    assert bridge.dialin.dial_in(number, r.room.pin, CALLER).admitted  # the lockout ended


def test_an_operator_clears_a_lockout(bridge: Bridge) -> None:
    r = bridge.booking.book(None, None, 5)
    for _ in range(RULES.pin_per_caller):
        bridge.dialin.dial_in(r.room.conference_number, bridge.wrong(r), CALLER)

    assert bridge.dialin.clear_pin_lockout(f"caller:{CALLER}")
    assert bridge.dialin.dial_in(r.room.conference_number, r.room.pin, CALLER).admitted
    assert not bridge.dialin.clear_pin_lockout(f"caller:{CALLER}")  # nothing left to clear


def test_an_unknown_number_answers_like_a_wrong_pin(bridge: Bridge) -> None:
    r = bridge.booking.book(None, None, 5)
    unknown = bridge.dialin.dial_in("999999", r.room.pin, CALLER)
    wrong = bridge.dialin.dial_in(r.room.conference_number, bridge.wrong(r), spoofed())

    assert unknown.status is wrong.status is DialInStatus.BAD_CREDENTIALS
    assert unknown.reservation is wrong.reservation is None
    assert unknown.delay_s == wrong.delay_s


def test_a_flood_throttles_the_conference_but_its_known_callers_are_still_heard(bridge: Bridge) -> None:
    r = bridge.booking.book(None, None, 5)
    number = r.room.conference_number
    assert bridge.usage.record_join("leg-1", number, CALLER, moderator=False)
    bridge.usage.record_leave("leg-1")

    flood = [bridge.dialin.dial_in(number, bridge.wrong(r), spoofed()) for _ in range(8)]

    statuses = [o.status for o in flood]
    assert statuses[:4] == [DialInStatus.BAD_CREDENTIALS] * 4  # the budget
    assert set(statuses[4:]) == {DialInStatus.THROTTLED}
    assert [o.throttle_started for o in flood].count(True) == 1  # one alert
    assert bridge.dialin.dial_in(number, r.room.pin, spoofed()).status is DialInStatus.THROTTLED
    assert bridge.dialin.dial_in(number, r.room.pin, CALLER).admitted  # joined before: heard
