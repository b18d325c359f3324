"""The operator hears of a request over the limits through the real SMTP relay the tests start;
the requester hears the operator's decision, with the reason, through the real Kannel (R3, R4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.model import ReservationStatus
from tests.support.messaging_system import MessagingSystem, running_messaging
from tests.support.smtp import body
from tests.support.system import isolated_settings

PRAGUE = ZoneInfo("Europe/Prague")
OPERATOR = "queue-desk@example.com"
PHONE = "+420601400500"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingSystem]:
    tmp = tmp_path_factory.mktemp("alert")
    settings = isolated_settings(tmp, "alert")
    mail = settings.messaging.mail.model_copy(update={"operator_address": OPERATOR})
    messaging = settings.messaging.model_copy(update={"mail": mail})
    with running_messaging(settings.model_copy(update={"messaging": messaging}), tmp) as s:
        yield s


def test_a_queued_request_is_mailed_to_the_operator_and_its_rejection_texted_to_the_requester(
    system: MessagingSystem,
) -> None:
    day = datetime.now(PRAGUE) + timedelta(days=2)
    system.phone.send(PHONE, "8000", f"conf {day:%d%m} 0930 150 5")  # 150 minutes: over R3's 120
    queued = system.phone.wait_for(lambda m: m.receiver == PHONE, timeout=20)
    assert "An operator will decide" in queued.text
    [r] = system.booking.reservations_of(f"sms:{PHONE}")
    assert r.status is ReservationStatus.PENDING

    alert = system.relay.wait_for(lambda m: OPERATOR in str(m["To"]), timeout=20)
    assert alert["Subject"] == f"Waiting for an operator: request {r.id} (sms:{PHONE})"
    text = body(alert)
    for part in (f"Request: {r.id}", f"Profile: sms:{PHONE}", "Kind: on_demand", "Participants: 5"):
        assert part in text
    assert f"{day:%Y-%m-%d} 09:30 - {day:%Y-%m-%d} 12:00 (Europe/Prague)" in text
    assert "150 minutes is longer than the 120 minutes allowed" in text and "/operator/queue" in text
    assert r.room.pin not in text and r.room.admin_pin not in text  # the operator needs no codes

    system.booking.reject(r.id, "Long calls need a booking by phone")
    told = system.phone.wait_for(lambda m: m.receiver == PHONE and m.text != queued.text, timeout=20)
    assert "Long calls need a booking by phone" in told.text
    assert len(system.relay.to(OPERATOR)) == 1  # one alert per request entering the queue
