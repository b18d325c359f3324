"""PIN guessing against one conference on real Asterisk: a flood from spoofed caller numbers
throttles the conference (the metric and the security log show it) while its known
participants and moderators still join; web guessing never locks phone callers out."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from booking.domain.model import Reservation
from booking.services.usage import UsageService
from conference_ivr.ami.events import ConfbridgeJoin, Hangup
from conference_ivr.settings import ApiSettings
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.live_web import live_app, serving
from tests.support.poll import until
from tests.support.signin import signin_token
from tests.support.system import System

_spoofed = itertools.count(1)


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def spoofed() -> str:
    return f"+42079{next(_spoofed):07d}"


def metric(system: System, name: str, labels: dict[str, str] | None = None) -> float:
    return system.controller.metrics.registry.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def security_log() -> Iterator[list[structlog.typing.EventDict]]:
    with capture_logs() as logs:
        yield logs


async def join_and_leave(system: System, r: Reservation, pin: str, caller_id: str) -> None:
    c = system.caller(caller_id=caller_id)
    await c.join(r.room.conference_number, pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid)
    usage = UsageService(system.services.uow, system.clock, system.settings.booking)
    await until(lambda: usage.leg(c.uniqueid), what="the usage leg", blocking=True)
    await c.hangup()


async def guesses(c: LocalCaller, number: str, pin: str, rounds: int) -> None:
    await c.dial()
    await c.answer_prompt("press_one", "1")
    for _ in range(rounds):
        await c.answer_prompt("conference_number", number + "#")
        await c.answer_prompt("pin", pin + "#")
    await c.log.wait_for(lambda e: isinstance(e, Hangup) and e.uniqueid == c.uniqueid)


async def test_a_flood_from_spoofed_numbers_throttles_strangers_not_known_callers(
    system: System, security_log: list[structlog.typing.EventDict]
) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=10)
    number, budget = r.room.conference_number, system.settings.booking.pin_per_conference
    participant, moderator = spoofed(), spoofed()
    await join_and_leave(system, r, r.room.pin, participant)  # both used the conference before
    await join_and_leave(system, r, r.room.admin_pin, moderator)
    attacks, throttled = (
        metric(system, "dialconf_pin_attacks_total"),
        metric(system, "dialconf_pin_throttled_total"),
    )

    # Spoofed numbers, three wrong guesses a call: the budget is spent, the next guess is not heard.
    callers = [system.caller(caller_id=spoofed()) for _ in range(budget // 3 + 1)]
    for c in callers[:-1]:
        await guesses(c, number, "1000000", 3)
    last = callers[-1]
    await guesses(last, number, "1000000", budget % 3 + 1)
    heard = [phrase for c in callers for phrase in c.played()]
    assert heard.count("bad_credentials") == budget  # exactly the budget was compared
    assert last.played()[-2:] == ["pin_locked", "goodbye"]
    assert metric(system, "dialconf_pin_attacks_total") == attacks + 1
    assert metric(system, "dialconf_pin_throttled_total") == throttled + 1
    alerts = [e for e in security_log if e["event"] == "security.pin_attack"]
    assert [a["conference"] for a in alerts] == [number] and alerts[0]["log_level"] == "warning"
    assert f"conference:{number}" in {a.key for a in system.services.dialin.pin_lockouts()}

    # A stranger with the right PIN waits out the attack; the conference's own people do not.
    stranger = system.caller(caller_id=spoofed())
    await guesses(stranger, number, r.room.pin, 1)
    assert stranger.played()[-2:] == ["pin_locked", "goodbye"]
    for pin, caller_id in ((r.room.pin, participant), (r.room.admin_pin, moderator)):
        c = system.caller(caller_id=caller_id)
        await c.join(number, pin)
        (event,) = await system.events.wait_for(joined(c))
        assert isinstance(event, ConfbridgeJoin)
        await c.hangup()
    refused = [e for e in security_log if e["event"] == "security.pin_throttled"]
    assert [e["caller"] for e in refused] == [last.caller_id, stranger.caller_id]  # never a PIN
    assert metric(system, "dialconf_join_failures_total", {"reason": "pin_throttled"}) >= 2
    # The operator lifts it at once (or it ends with its window).
    assert system.services.dialin.clear_pin_lockout(f"conference:{number}")
    newcomer = system.caller(caller_id=spoofed())
    await newcomer.join(number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == newcomer.uniqueid)
    await newcomer.hangup()


async def test_twenty_wrong_web_admin_pins_then_a_phone_caller_with_the_right_pin_joins(
    system: System, security_log: list[structlog.typing.EventDict]
) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    number = r.room.conference_number
    # Behind a trusted proxy on this machine, so each guess can come from its own address.
    async with (
        serving(live_app(system), ApiSettings(trusted_proxies=["127.0.0.1"])) as url,
        httpx.AsyncClient(base_url=url) as web,
    ):
        token = signin_token((await web.get("/panel/login")).text)
        codes = []
        for i in range(20):
            form = {"conference": number, "admin_pin": f"10000000{i % 10}", "csrf": token}
            address = f"198.51.100.{i // 2}"  # two guesses per address
            answer = await web.post("/panel/login/moderator", data=form, headers={"X-Forwarded-For": address})
            codes.append(answer.status_code)
        budget = system.settings.booking.pin_web_per_conference
        assert codes == [401] * budget + [429] * (20 - budget)
        # The right ADMIN PIN from a new browser waits out the web's throttle...
        form = {"conference": number, "admin_pin": r.room.admin_pin, "csrf": token}
        refused = await web.post(
            "/panel/login/moderator", data=form, headers={"X-Forwarded-For": "203.0.113.1"}
        )
        assert refused.status_code == 429
    assert [e["channel"] for e in security_log if e["event"] == "security.pin_attack"] == ["web"]
    # ...while the phone never noticed: a participant and a moderator call in and join.
    for pin in (r.room.pin, r.room.admin_pin):
        c = system.caller(caller_id=spoofed())
        await c.join(number, pin)
        await system.events.wait_for(joined(c))
        assert "pin_locked" not in c.played()
        await c.hangup()
    held = {a.key for a in system.services.dialin.pin_lockouts()}
    assert f"web-conference:{number}" in held and f"conference:{number}" not in held
