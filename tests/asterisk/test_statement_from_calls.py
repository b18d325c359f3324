"""A month's statement and the post-conference report from legs that real calls left.

Callers dial in over Asterisk (Local channels) on a clock that runs 30 times faster, stay a
few "minutes", hang up; the controller records the legs (with the access number dialled) and
billing rates them: the organizer's participant-minutes, each caller's own connection charge.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from booking.adapters.mail import SmtpMailGateway
from booking.domain.clock import ScaledClock
from booking.domain.messages import Kind, Message
from booking.domain.rating import RatedLeg
from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave, ConfbridgeMember
from conference_ivr.dialconf.services import build_services
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.smtp import body, smtp_sink
from tests.support.system import System, isolated_settings, running_asterisk, running_system

SPEED = 30.0


@pytest.fixture(scope="module")
async def fast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    settings = isolated_settings(tmp_path_factory.mktemp("billing"), name="bill")
    # Mid-month, so that the few "minutes" of the test never straddle two months.
    start = datetime.now(UTC).replace(day=15, hour=10, minute=0, second=0, microsecond=0)
    async with (
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk, ScaledClock(start, SPEED)) as system,
    ):
        yield system


def event(kind: type[ConfbridgeMember], c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, kind) and e.uniqueid == c.uniqueid


async def test_a_statement_and_a_report_from_real_calls(fast: System) -> None:
    r = fast.booking.book(fast.clock.now() - timedelta(minutes=1), 60, seats=5)
    assert r.id is not None
    o2 = fast.caller("8000", caller_id="+420602111000", voice="300/100,0/400")
    landline = fast.caller("8001", caller_id="+420221333000")
    for c, pin in ((o2, r.room.admin_pin), (landline, r.room.pin)):
        await c.join(r.room.conference_number, pin, say_name_s=1.0)
        await fast.events.wait_for(event(ConfbridgeJoin, c), timeout=20)
    everyone_in = fast.clock.now()
    await until(lambda: fast.clock.now() >= everyone_in + timedelta(minutes=2), timeout=10, what="2 minutes")
    for c in (landline, o2):
        await c.hangup()
        await fast.events.wait_for(event(ConfbridgeLeave, c), timeout=20)

    billing = fast.services.billing
    month = f"{fast.clock.now().astimezone(billing.tz):%Y-%m}"
    profile = r.room.profile_id
    # The controller writes a leg when it hears the Leave on its own AMI connection.

    def rated_both() -> list[RatedLeg]:
        return billing.rated(month, profile) if billing.rate_month(month).legs == 2 else []

    legs = await until(rated_both, blocking=True, what="both legs closed and rated")
    usage = fast.services.usage
    assert {usage.leg(c.uniqueid).access_number for c in (o2, landline)} == {"8000", "8001"}  # type: ignore[union-attr]

    s = billing.statement(profile, month)
    assert s.plan == "on_demand" and len(s.lines) == 1 and s.lines[0].participants == 2
    for leg in legs:
        assert leg.billed_s == math.ceil(leg.seconds / 60) * 60 and leg.seconds >= 30  # "minutes" passed
        assert leg.net == Decimal(leg.billed_s // 60) * Decimal("3.00")
    assert s.usage_net == sum((leg.net for leg in legs), Decimal("0.00"))
    assert s.gross == s.net + s.vat and s.vat == (s.net * Decimal("0.21")).quantize(Decimal("0.01"))

    rows = billing.session_report(profile, r.id, s.lines[0].session_id or "")
    assert [row.caller_number for row in rows] == ["+420602111000", "+420221333000"]
    o2_row, landline_row = rows
    assert o2_row.role == "moderator" and o2_row.name_file and o2.uniqueid in o2_row.name_file
    # The O2 caller's own connection: 4 CZK/min excl. VAT, first minute whole, then per second.
    o2_rated = next(leg for leg in legs if leg.uniqueid == o2.uniqueid)
    assert o2_rated.caller_rule.startswith("O2 mobile") and o2_rated.caller_billed_s == max(
        60, o2_rated.seconds
    )
    assert landline_row.caller_gross > 0 and o2_row.caller_gross > 0

    csv = billing.statement_csv(profile, month).splitlines()
    assert len(csv) == 1 + 2 + 6 and csv[-1].endswith(f"{s.gross},total:gross,")


async def test_the_report_is_e_mailed_after_a_session_when_the_profile_asks(fast: System) -> None:
    r = fast.booking.book(fast.clock.now() - timedelta(minutes=1), 60, seats=5, profile="reports")
    assert r.id is not None
    fast.services.billing.set_mail_settings(r.room.profile_id, "boss@reports.example", reports=True)
    first = fast.caller("8000", caller_id="+420602111001")
    second = fast.caller("8001", caller_id="+420221333001")
    for c, pin in ((first, r.room.admin_pin), (second, r.room.pin)):
        await c.join(r.room.conference_number, pin, say_name_s=1.0)
        await fast.events.wait_for(event(ConfbridgeJoin, c), timeout=20)

    def reports() -> list[Message]:
        with fast.services.uow(read_only=True) as tx:
            return [m for m in tx.messages.outbox("boss@reports.example") if m.kind is Kind.REPORT]

    await first.hangup()
    await fast.events.wait_for(event(ConfbridgeLeave, first), timeout=20)
    await second.hangup()
    await fast.events.wait_for(event(ConfbridgeLeave, second), timeout=20)
    # Queued in the outbox with the session's last leg (this controller has no mail gateway):
    [queued] = await until(reports, blocking=True, what="the report queued as the session ended")
    assert queued.body is None  # rendered when sent: by then every leg is closed and rated

    # The service that sends mail (dialconf run's messaging runtime) takes it from the outbox.
    settings = fast.settings
    with smtp_sink(settings.messaging.mail.relay_port) as relay:
        sender = build_services(settings, fast.clock, mail=SmtpMailGateway(settings.messaging.mail))
        try:
            dispatcher = sender.messaging.dispatcher
            assert dispatcher is not None
            await until(lambda: dispatcher.send_due() > 0, blocking=True, what="the report sent")
        finally:
            sender.close()
        mail = relay.wait_for(lambda m: "boss@reports.example" in str(m["To"]))
    assert str(mail["Subject"]).startswith(f"Dialconf: report of conference {r.room.conference_number}")
    text = body(mail)
    assert "+420602111001" in text and "+420221333001" in text and "moderator" in text
    assert "2 participant legs" in text
