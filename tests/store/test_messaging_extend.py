"""``extend [number] [minutes]`` by SMS through the order desk, on SQLite and PostgreSQL (R9 on
request): the organizer's phone gives its running conference more time when the seats are free."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from booking.domain.clock import FakeClock
from booking.domain.messages import Outcome
from booking.domain.model import Reservation
from tests.store.conftest import Store
from tests.support.messaging import Harness, messaging_settings

NOW = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Prague
PHONE, OTHER = "+420601111222", "+420601111333"


@pytest.fixture
def h(store: Store) -> Iterator[Harness]:
    yield Harness(store.engine, FakeClock(NOW), messaging_settings(system_capacity=20))


def booked(h: Harness, phone: str, text: str, message_id: str) -> Reservation:
    assert h.sms(phone, text, message_id) is Outcome.BOOKED
    return h.booking.reservations_of(f"sms:{phone}")[-1]


def last_reply(h: Harness, phone: str) -> str:
    h.dispatch()
    return h.gateway.to(phone)[-1].text


def ends(h: Harness, r: Reservation) -> datetime | None:
    found = h.booking.reservation(r.id)
    assert found is not None
    return found.ends_at


def test_the_running_conference_is_extended_by_the_period_or_the_minutes_asked(h: Harness) -> None:
    r = booked(h, PHONE, "konf 0107 1000 60 10", "o1")  # 10:00-11:00, running now
    assert h.sms(PHONE, "prodluž", "x1") is Outcome.EXTENDED
    assert (
        last_reply(h, PHONE)
        == f"Konference {r.room.conference_number} je prodloužena o 15 min: nyní končí v 11:15."
    )
    assert ends(h, r) == datetime(2027, 7, 1, 9, 15, tzinfo=UTC)
    assert h.sms(PHONE, f"extend {r.room.conference_number} 30", "x2") is Outcome.EXTENDED
    assert last_reply(h, PHONE).endswith("it now ends at 11:45.")
    assert ends(h, r) == datetime(2027, 7, 1, 9, 45, tzinfo=UTC)


def test_it_is_refused_when_the_seats_are_booked_after_the_end(h: Harness) -> None:
    r = booked(h, PHONE, "conf 0107 1000 60 10", "o1")
    h.booking.book(datetime(2027, 7, 1, 9, 0, tzinfo=UTC), 60, 15)  # 11:00: only 5 of 20 left
    assert h.sms(PHONE, "extend 10", "x1") is Outcome.REFUSED
    assert "cannot be extended by 10 min" in last_reply(h, PHONE) and "It ends at 11:00." in last_reply(
        h, PHONE
    )
    assert ends(h, r) == datetime(2027, 7, 1, 9, 0, tzinfo=UTC)  # nothing moved


def test_only_the_phone_that_booked_it_extends_a_running_conference(h: Harness) -> None:
    r = booked(h, PHONE, "conf 0107 1000 60 10", "o1")
    number = r.room.conference_number
    assert h.sms(OTHER, f"extend {number}", "x1") is Outcome.INVALID
    assert last_reply(h, OTHER) == f"You have no conference {number} running now. Send 'status' to see yours."
    assert h.sms(OTHER, "extend", "x2") is Outcome.INVALID
    assert last_reply(h, OTHER).startswith("You have no conference running now.")
    assert h.mail("eva@example.com", "extend", "m1", authenticated=True) is Outcome.INVALID
    assert ends(h, r) == datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
    [answer] = [m for m in h.outbox("eva@example.com") if m.body]
    assert answer.body is not None and "only by SMS from the phone that booked it" in answer.body


def test_a_conference_not_yet_open_is_not_running(h: Harness) -> None:
    booked(h, PHONE, "conf 0107 1500 60 10", "o1")  # this afternoon
    assert h.sms(PHONE, "extend", "x1") is Outcome.INVALID
    assert last_reply(h, PHONE).startswith("You have no conference running now.")


def test_with_two_running_the_number_is_needed_and_the_minutes_are_capped(h: Harness) -> None:
    first = booked(h, PHONE, "conf 0107 1000 60 4", "o1")
    second = booked(h, PHONE, "conf 0107 1000 30 4", "o2")
    assert h.sms(PHONE, "extend 20", "x1") is Outcome.INVALID
    numbers = f"{first.room.conference_number}, {second.room.conference_number}"
    assert last_reply(h, PHONE) == (
        f"Several of your conferences are running: send extend <conference number> [minutes] ({numbers})."
    )
    assert h.sms(PHONE, f"extend {second.room.conference_number} 500", "x2") is Outcome.REFUSED
    assert last_reply(h, PHONE) == "At most 120 minutes at a time: send extend [conference number] [minutes]."
    assert h.sms(PHONE, f"extend {second.room.conference_number} 20", "x3") is Outcome.EXTENDED
    assert ends(h, second) == datetime(2027, 7, 1, 8, 50, tzinfo=UTC) and ends(h, first) == first.ends_at


def test_a_bad_extend_is_answered_in_its_language(h: Harness) -> None:
    assert h.sms(PHONE, "przedłuż abc", "x1") is Outcome.INVALID
    assert last_reply(h, PHONE).startswith("'abc' nie jest ani numerem konferencji")
