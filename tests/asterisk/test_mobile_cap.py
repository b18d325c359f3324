"""R10 in compressed time: a mobile caller is warned, then cut at the cap; a landline caller
is not; the mobile caller dials in again and is not asked for a name twice."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import ScaledClock
from booking.domain.usage import Leg
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin, ConfbridgeLeave, Hangup
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.heard import heard_at, heard_when_closed, prompt
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


def hung_up(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, Hangup) and e.uniqueid == c.uniqueid


def warned(channel: str) -> Predicate:
    """The cap's warning whispered to this member's channel alone."""
    return lambda e: (
        e.get("UserEvent") == names.USER_EVENT_PLAY
        and "dialconf/mobile_warning" in e.get("Sound")
        and e.get("Targets") == channel
    )


async def test_mobile_caller_is_warned_then_cut_and_rejoins_without_a_new_name(fast: System) -> None:
    r = fast.booking.book(fast.clock.now() - timedelta(minutes=1), 120, seats=5)
    landline = fast.caller(caller_id="+420221000777")
    mobile = fast.caller(caller_id="+420602000777", voice="300/100,0/400")
    await landline.join(r.room.conference_number, r.room.pin)
    await fast.events.wait_for(joined(landline))
    await mobile.join(r.room.conference_number, r.room.pin, say_name_s=1.0)
    await fast.events.wait_for(joined(mobile))
    in_at = fast.clock.now()

    (joined_mobile,) = fast.events.matching(joined(mobile))
    await fast.events.wait_for(warned(joined_mobile.get("Channel")), timeout=20)
    warned_at = fast.clock.now()
    assert in_at + timedelta(minutes=3) <= warned_at <= in_at + timedelta(minutes=6)
    await fast.events.wait_for(
        lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == mobile.uniqueid, timeout=20
    )
    cut_at = fast.clock.now()
    assert in_at + timedelta(minutes=7, seconds=30) <= cut_at <= in_at + timedelta(minutes=10)
    # the landline caller was never warned and is still in
    (joined_landline,) = fast.events.matching(joined(landline))
    assert not fast.events.matching(warned(joined_landline.get("Channel")))
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


async def test_each_mobile_caller_hears_the_warning_in_their_own_language(fast: System) -> None:
    """An English and a Czech mobile caller in one conference: each hears the cap's warning
    in their language and not the other's, found byte for byte in what each heard."""
    r = fast.booking.book(fast.clock.now() - timedelta(minutes=1), 120, seats=5)
    records = {lang: fast.asterisk.instance.inner("spool", f"mobile-{r.id}-{lang}") for lang in ("en", "cs")}
    callers = {
        lang: fast.caller(access, caller_id=f"+42060200{i}888", record=str(records[lang]))
        for i, (lang, access) in enumerate((("en", "8000"), ("cs", "8001")))
    }
    for c in callers.values():
        await c.join(r.room.conference_number, r.room.pin)
        await fast.events.wait_for(joined(c))
    for lang, c in callers.items():
        (join,) = fast.events.matching(joined(c))
        (play,) = await fast.events.wait_for(warned(join.get("Channel")), timeout=20)
        assert play.get("Language") == lang
    for c in callers.values():  # cut at the cap
        await fast.events.wait_for(hung_up(c), timeout=20)
    for lang, other in (("en", "cs"), ("cs", "en")):
        with wave.open(str(await heard_when_closed(fast, records[lang]))) as w:
            heard = w.readframes(w.getnframes())
        assert heard_at(heard, prompt(fast, "mobile_warning", lang)) is not None, lang
        assert heard_at(heard, prompt(fast, "mobile_warning", other)) is None, lang
