"""``extend`` / ``prodluz`` end to end: the organizer's phone texts the real Kannel, the order desk
moves the running conference's booked end when the shared seats allow, and the answer comes back
through Kannel's sendsms, either way (R9 on request)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.model import Reservation
from tests.support.kannel import Sms
from tests.support.messaging_system import MessagingSystem, running_messaging
from tests.support.poll import until_sync
from tests.support.system import isolated_settings

PRAGUE = ZoneInfo("Europe/Prague")
CAPACITY = 12
ORGANIZER, STRANGER = "+420601200100", "+420601200200"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingSystem]:
    tmp = tmp_path_factory.mktemp("extend")
    settings = isolated_settings(tmp, "ext")
    small = settings.booking.model_copy(update={"system_capacity": CAPACITY})
    with running_messaging(settings.model_copy(update={"booking": small}), tmp) as s:
        yield s


def reply_to(system: MessagingSystem, phone: str, seen: int) -> Sms:
    """The next answer to ``phone`` after the ``seen`` it already had."""

    def answers() -> list[Sms]:
        return [m for m in system.phone.received() if m.receiver == phone]

    until_sync(lambda: len(answers()) > seen, 20, f"answer {seen + 1} to {phone}")
    return answers()[seen]


def the_booking(system: MessagingSystem) -> Reservation:
    [r] = system.booking.reservations_of(f"sms:{ORGANIZER}")
    return r


def local_end(r: Reservation) -> str:
    assert r.ends_at is not None
    return f"{r.ends_at.astimezone(PRAGUE):%H:%M}"


def test_the_organizers_phone_extends_its_running_conference_and_hears_back_either_way(
    system: MessagingSystem,
) -> None:
    now = datetime.now(PRAGUE)
    system.phone.send(ORGANIZER, "8000", f"konf {now:%d%m %H%M} 60 5")  # starting now
    assert reply_to(system, ORGANIZER, 0).text.startswith("Konference rezervována:")
    booked = the_booking(system)
    assert booked.ends_at is not None

    system.phone.send(ORGANIZER, "8000", "prodluž")  # the settings' period: 15 minutes
    extended = reply_to(system, ORGANIZER, 1)
    r = the_booking(system)
    assert r.ends_at == booked.ends_at + timedelta(minutes=15)
    number = r.room.conference_number
    assert extended.text == f"Konference {number} je prodloužena o 15 min: nyní končí v {local_end(r)}."

    # Every seat of the service is booked from the new end: no more time.
    assert r.ends_at is not None
    system.booking.book(r.ends_at, 60, CAPACITY)
    system.phone.send(ORGANIZER, "8000", f"extend {number} 10")
    refused = reply_to(system, ORGANIZER, 2)
    assert the_booking(system).ends_at == r.ends_at
    assert refused.text.startswith(f"Conference {number} cannot be extended by 10 min")
    assert refused.text.endswith(f"It ends at {local_end(r)}.")

    # Another phone cannot extend it, even knowing its number.
    system.phone.send(STRANGER, "8000", f"extend {number}")
    assert reply_to(system, STRANGER, 0).text == (
        f"You have no conference {number} running now. Send 'status' to see yours."
    )
    assert the_booking(system).ends_at == r.ends_at
