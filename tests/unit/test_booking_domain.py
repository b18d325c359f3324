"""Pure booking rules: credentials, admission of a dial-in caller, which reservation a call means."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.credentials import is_trivial, new_conference_number, new_pins, random_digits
from booking.domain.model import Reservation, ReservationKind, Role, Room, Verdict, admit
from booking.services.dialin import pick_reservation

LEAD = timedelta(minutes=5)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ROOM = Room(conference_number="583920", pin="472915", admin_pin="860374", profile_id=1, id=1)


def scripted(*numbers: str) -> Callable[[int], int]:
    """A deterministic ``rand(10)``: yields the digits of ``numbers`` in order, then fails loudly."""
    digits = iter(int(d) for d in "".join(numbers))

    def rand(bound: int) -> int:
        assert bound == 10
        return next(digits)

    return rand


def cycling(number: str) -> Callable[[int], int]:
    digits = itertools.cycle(int(d) for d in number)
    return lambda _bound: next(digits)


@pytest.mark.parametrize(
    "digits",
    ["111111", "000000", "123456", "987654", "901234", "210987", "121212", "123123", "112112", "100100"],
)
def test_trivial_codes(digits: str) -> None:
    assert is_trivial(digits)


@pytest.mark.parametrize("digits", ["112233", "472915", "860374", "135792", "102938", "4729153"])
def test_non_trivial_codes(digits: str) -> None:
    # 112233 has three different digits, no single step and no repeated block: the rule lets it pass
    assert not is_trivial(digits)


def test_random_digits_skips_leading_zero_and_trivial_values() -> None:
    rand = scripted("012345", "123456", "555555", "472915")
    assert random_digits(6, rand) == "472915"


def test_new_pins_are_long_different_and_not_trivial() -> None:
    rand = scripted("123456", "472915", "472915", "098765", "860374")
    pin, admin = new_pins(6, rand)
    assert (pin, admin) == ("472915", "860374")


@pytest.mark.parametrize("length", [6, 8])
def test_new_pins_with_real_randomness(length: int) -> None:
    for _ in range(50):
        pin, admin = new_pins(length)
        for code in (pin, admin):
            assert len(code) == length and code.isdigit()
            assert code[0] != "0"
            assert not is_trivial(code)
        assert pin != admin


@pytest.mark.parametrize("length", [0, 4, 5])
def test_short_pins_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="at least 6"):
        new_pins(length)


def test_new_conference_number_avoids_taken_numbers() -> None:
    rand = scripted("583920", "047113", "692847")
    assert new_conference_number({"583920", "111111"}, 6, rand) == "692847"


def test_new_conference_number_gives_up_when_everything_is_taken() -> None:
    with pytest.raises(RuntimeError, match="no free conference number"):
        new_conference_number({"583920"}, 6, cycling("583920"))


def reservation(
    starts: datetime | None = START, minutes: int | None = 60, room: Room = ROOM, seats: int = 10
) -> Reservation:
    ends = None if starts is None or minutes is None else starts + timedelta(minutes=minutes)
    kind = ReservationKind.ANYTIME if starts is None else ReservationKind.PANEL
    return Reservation(room, kind, starts, ends, seats, id=1)


def test_admin_pin_admits_a_moderator() -> None:
    a = admit(reservation(), ROOM.admin_pin, START, LEAD)
    assert (a.verdict, a.role) == (Verdict.ADMITTED, Role.MODERATOR)


def test_pin_admits_a_participant() -> None:
    a = admit(reservation(), ROOM.pin, START + timedelta(minutes=30), LEAD)
    assert (a.verdict, a.role) == (Verdict.ADMITTED, Role.PARTICIPANT)


@pytest.mark.parametrize(
    "when", [START - timedelta(days=1), START, START + timedelta(hours=2)], ids=["early", "open", "over"]
)
@pytest.mark.parametrize("pin", ["000000", "", "47291", "4729150", ROOM.pin[::-1]])
def test_wrong_pin_learns_nothing_about_the_schedule(when: datetime, pin: str) -> None:
    a = admit(reservation(), pin, when, LEAD)
    assert a.verdict is Verdict.WRONG_PIN
    assert a.role is None and a.opens_at is None


def test_too_early_says_when_it_opens() -> None:
    a = admit(reservation(), ROOM.pin, START - LEAD - timedelta(seconds=1), LEAD)
    assert a.verdict is Verdict.TOO_EARLY
    assert a.role is Role.PARTICIPANT
    assert a.opens_at == START - LEAD


def test_exactly_at_the_lead_time_is_admitted() -> None:
    assert admit(reservation(), ROOM.admin_pin, START - LEAD, LEAD).verdict is Verdict.ADMITTED


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_over_at_and_after_the_end(after: timedelta) -> None:
    end = START + timedelta(minutes=60)
    a = admit(reservation(), ROOM.pin, end + after, LEAD)
    assert (a.verdict, a.role) == (Verdict.OVER, Role.PARTICIPANT)


def test_last_second_before_the_end_is_admitted() -> None:
    end = START + timedelta(minutes=60)
    assert admit(reservation(), ROOM.pin, end - timedelta(seconds=1), LEAD).verdict is Verdict.ADMITTED


@pytest.mark.parametrize("when", [datetime(2000, 1, 1, tzinfo=UTC), START, datetime(2100, 1, 1, tzinfo=UTC)])
def test_anytime_room_is_always_open(when: datetime) -> None:
    anytime = reservation(starts=None, minutes=None)
    assert anytime.opens_at(LEAD) is None
    assert admit(anytime, ROOM.pin, when, LEAD).verdict is Verdict.ADMITTED
    assert admit(anytime, ROOM.admin_pin, when, LEAD).role is Role.MODERATOR
    assert admit(anytime, "999999", when, LEAD).verdict is Verdict.WRONG_PIN


def _at(hour: int) -> datetime:
    return START.replace(hour=hour)


def _pick(found: Iterable[Reservation], now: datetime) -> Reservation | None:
    return pick_reservation(list(found), now, LEAD)


def test_pick_nothing() -> None:
    assert _pick([], START) is None


def test_pick_the_open_one() -> None:
    past, current, future = reservation(_at(8)), reservation(_at(10)), reservation(_at(12))
    assert _pick([past, current, future], _at(10) + timedelta(minutes=30)) is current


def test_pick_open_during_the_lead_time() -> None:
    past, soon = reservation(_at(8)), reservation(_at(10))
    assert _pick([past, soon], _at(10) - timedelta(minutes=3)) is soon


def test_pick_the_next_one_between_reservations() -> None:
    past, next_, later = reservation(_at(8)), reservation(_at(12)), reservation(_at(14))
    assert _pick([past, next_, later], _at(10)) is next_


def test_pick_the_last_one_when_all_are_over() -> None:
    first, last = reservation(_at(8)), reservation(_at(10))
    assert _pick([first, last], _at(15)) is last


def test_pick_an_anytime_reservation() -> None:
    anytime = reservation(starts=None, minutes=None)
    assert _pick([anytime], datetime(2100, 1, 1, tzinfo=UTC)) is anytime
