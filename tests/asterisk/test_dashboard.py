"""The operations dashboard against real calls: the page and /metrics tell the same story.

A participant joins a booked conference and another caller keys three wrong PINs; the page
(the booking API with the web pages and the dashboard router, over ASGI) and the controller's
/metrics must show the member, the seats reserved and used, and the join failure.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from booking.web.app import install_web
from booking.web.dashboard import dashboard_router
from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin, Hangup
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.poll import until
from tests.support.services import api_app
from tests.support.signin import apost_sign_in
from tests.support.system import System

OPERATOR = "operator-token-for-the-dashboard"
FIGURE = re.compile(r'data-figure="([^"]+)"[^>]*>([^<]*)<')


def figures(html: str) -> dict[str, str]:
    return {name: value.strip() for name, value in FIGURE.findall(html)}


def hung_up(c: LocalCaller) -> Callable[[AmiEvent], bool]:
    return lambda e: isinstance(e, Hangup) and e.uniqueid == c.uniqueid


def number(f: dict[str, str], name: str) -> int:
    return int(f.get(name) or 0)


@pytest.fixture
async def web(system: System) -> AsyncIterator[httpx.AsyncClient]:
    """The operator, signed in, on the booking API with the dashboard on the system's controller."""
    app = api_app(system.services, OPERATOR)
    assert system.controller.operations is not None
    router = dashboard_router(system.controller.operations)
    s = system.services
    install_web(
        app,
        "a-web-secret-for-dashboard-tests",
        ZoneInfo("Europe/Prague"),
        [router],
        sessions=s.web_sessions,
        clock=s.clock,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        refused = await client.get("/dashboard", follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/panel/login")
        signed = await apost_sign_in(
            client, "/panel/login/operator", {"token": OPERATOR}, follow_redirects=False
        )
        assert signed.status_code == 303
        yield client


async def scrape(system: System) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    url = f"http://127.0.0.1:{system.controller.metrics_port}/metrics"
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_call_and_a_wrong_pin_show_on_the_dashboard_and_in_metrics(
    system: System, web: httpx.AsyncClient
) -> None:
    before = figures((await web.get("/dashboard")).text)
    r = system.booking.book(datetime.now(UTC), 60, seats=6)
    conference = r.room.conference_number
    bridge = names.bridge_name(conference)

    member = system.caller()
    await member.join(conference, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == member.uniqueid)
    await until(lambda: member.uniqueid in system.controller.live.members.get(bridge, ()), what="the member")

    guesser = system.caller()
    await guesser.dial()
    await guesser.answer_prompt("press_one", "1")
    for _ in range(3):
        await guesser.answer_prompt("conference_number", conference + "#")
        await guesser.answer_prompt("pin", "1000000#")
    await system.events.wait_for(hung_up(guesser))

    f = figures((await web.get("/dashboard")).text)
    assert f["ami"] == "connected"
    assert f[f"members-{conference}"] == "1" and f[f"seats-{conference}"] == "6"
    assert number(f, "conferences") >= 1 and number(f, "used") >= 1
    assert number(f, "members") == number(f, "used")  # seats used are the members
    assert number(f, "reserved-now") - number(before, "reserved-now") == 6
    assert number(f, "reserved-4h") >= number(f, "reserved-now")
    assert number(f, "capacity-now") == system.settings.booking.system_capacity
    assert number(f, "failures-bad_credentials") == number(before, "failures-bad_credentials") + 1
    assert number(f, "joins_participant") == number(before, "joins_participant") + 1
    assert number(f, "calls") == number(before, "calls") + 2

    # /metrics says the same (the page's read refreshed the seat gauges a moment ago)
    m = await scrape(system)
    assert m[("dialconf_ami_up", ())] == 1
    assert m[("dialconf_members_live", ())] == number(f, "members")
    assert m[("dialconf_conferences_live", ())] == number(f, "conferences")
    assert m[("dialconf_seats_reserved", (("horizon", "now"),))] == number(f, "reserved-now")
    assert m[("dialconf_seats_capacity", ())] == number(f, "capacity-now")
    failed = number(f, "failures-bad_credentials")
    assert m[("dialconf_join_failures_total", (("reason", "bad_credentials"),))] == failed
    assert m[("dialconf_pin_lockouts_active", (("scope", "caller"),))] == number(f, "lockouts-caller")

    # the fragment the page's script polls follows the call: the member leaves
    await member.hangup()
    await until(lambda: not system.controller.live.members.get(bridge), what="the member to leave")
    left = figures((await web.get("/dashboard/figures")).text)
    assert f"members-{conference}" not in left
    system.booking.cancel(r.id or 0)  # the seats go back for the other tests on this system


async def test_a_locked_out_caller_shows_as_a_lockout(system: System, web: httpx.AsyncClient) -> None:
    before = figures((await web.get("/dashboard")).text)
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    guesser = "+420777000777"
    for call in range(2):  # 3 wrong PINs, then a 4th in a second call: the limit here is 4
        c = system.caller(caller_id=guesser)
        await c.dial()
        await c.answer_prompt("press_one", "1")
        for _ in range(3 if call == 0 else 2):
            await c.answer_prompt("conference_number", r.room.conference_number + "#")
            await c.answer_prompt("pin", "1000000#")
        await system.events.wait_for(hung_up(c))
    try:
        f = figures((await web.get("/dashboard")).text)
        assert number(f, "lockouts-caller") == number(before, "lockouts-caller") + 1
        assert number(f, "pin_lockout_refusals") == number(before, "pin_lockout_refusals") + 1
        assert number(f, "failures-pin_locked") == number(before, "failures-pin_locked") + 1
        assert f"caller:{guesser}" in (await web.get("/dashboard")).text
        m = await scrape(system)
        assert m[("dialconf_pin_lockouts_active", (("scope", "caller"),))] == number(f, "lockouts-caller")
    finally:
        system.services.dialin.clear_pin_lockout(f"caller:{guesser}")
        system.booking.cancel(r.id or 0)
