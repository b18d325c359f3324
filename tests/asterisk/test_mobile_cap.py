"""R10 in compressed time: a mobile caller is warned, then cut at the cap; a landline caller
is not; the mobile caller dials in again and is not asked for a name twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import ScaledClock
from booking.domain.usage import Leg
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin, ConfbridgeLeave
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.system import System, isolated_settings, running_asterisk, running_system

SPEED = 30.0  # clock seconds per real second: the 8-minute cap takes 16 s
# The spoken warning lasts ~7 real seconds: at this speed it must start well before the cut.


@pytest.fixture(scope="module")
async def fast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    base = isolated_settings(tmp_path_factory.mktemp("mobile"), name="mob")
    controller = base.controller.model_copy(
        update={"mobile_cap_minutes": 8, "mobile_warning_minutes": 4, "lifecycle_tick_s": 0.1}
    )
    settings = base.model_copy(update={"controller": controller})
    async with (
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk, ScaledClock(datetime.now(UTC), SPEED)) as system,
    ):
        yield system


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


async def test_mobile_caller_is_warned_then_cut_and_rejoins_without_a_new_name(fast: System) -> None:
    r = fast.booking.book(fast.clock.now() - timedelta(minutes=1), 120, seats=5)
    landline = fast.caller(caller_id="+420221000777")
    mobile = fast.caller(caller_id="+420602000777", voice="300/100,0/400")
    await landline.join(r.room.conference_number, r.room.pin)
    await fast.events.wait_for(joined(landline))
    await mobile.join(r.room.conference_number, r.room.pin, say_name_s=1.0)
    await fast.events.wait_for(joined(mobile))
    in_at = fast.clock.now()

    await fast.events.wait_for(
        lambda e: (
            isinstance(e, AgiExecStart)
            and e.get("Uniqueid") == mobile.uniqueid
            and "dialconf/mobile_warning" in e.command
        ),
        timeout=20,
    )
    warned_at = fast.clock.now()
    assert in_at + timedelta(minutes=3) <= warned_at <= in_at + timedelta(minutes=6)
    await fast.events.wait_for(
        lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == mobile.uniqueid, timeout=20
    )
    cut_at = fast.clock.now()
    assert in_at + timedelta(minutes=7, seconds=30) <= cut_at <= in_at + timedelta(minutes=10)
    # the landline caller was never warned and is still in
    assert not any("mobile_warning" in e.command for e in fast.events.of_kind(
        AgiExecStart, lambda e: e.get("Uniqueid") == landline.uniqueid))  # fmt: skip
    assert landline.uniqueid in fast.controller.live.members.get(f"conf-{r.room.conference_number}", set())
    cuts = fast.controller.metrics.registry.get_sample_value("dialconf_mobile_cuts_total")
    assert cuts == 1
    assert fast.controller.recorder is not None
    usage = fast.services.usage

    # The controller hears the Leave on its own AMI connection, maybe after this test's one did.
    def closed_leg() -> Leg | None:
        leg = usage.leg(mobile.uniqueid)
        return leg if leg is not None and leg.left_at is not None else None

    cut_leg = await until(closed_leg, blocking=True, what="the mobile leg closed")
    assert cut_leg.mobile and cut_leg.end_reason == "mobile_cap"
    landline_leg = usage.leg(landline.uniqueid)
    assert landline_leg is not None and not landline_leg.mobile and landline_leg.left_at is None

    # dialling in again: straight in after the PIN, no name recording this time
    again = fast.caller(caller_id="+420602000777")
    await again.dial()
    await again.answer_prompt("press_one", "1")
    await again.answer_prompt("conference_number", r.room.conference_number + "#")
    await again.answer_prompt("pin", r.room.pin + "#")
    await fast.events.wait_for(joined(again))
    commands = [e.command for e in fast.events.of_kind(
        AgiExecStart, lambda e: e.get("Uniqueid") == again.uniqueid)]  # fmt: skip
    assert not any(c.startswith("RECORD FILE") for c in commands)
    for c in (landline, again):
        await c.hangup()
