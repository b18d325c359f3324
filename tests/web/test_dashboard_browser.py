"""The operations dashboard in a real headless chromium, with a live call on real Asterisk.

The app is composed as ``dialconf run`` composes it (``build_api`` with ``controller_routers``)
and served by uvicorn in the test's event loop, next to the controller, whose live state the
page reads there. Selenium blocks, so each browser step runs in a thread. Screenshots land in
test-artifacts/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

import uvicorn
from selenium.webdriver.common.by import By

from conference_ivr.ami.events import ConfbridgeJoin
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import build_api, controller_routers
from conference_ivr.dialconf.services import operator_token
from conference_ivr.pbx import names
from tests.support.browser import Browser, browser
from tests.support.poll import until
from tests.support.ports import free_ports
from tests.support.system import System

T = TypeVar("T")


@asynccontextmanager
async def serving(system: System) -> AsyncIterator[str]:
    s = system.settings
    app = build_api(system.services, routers=controller_routers(system.services, system.controller))
    (port,) = free_ports(1)
    server = uvicorn.Server(api_config(app, s.api, host="127.0.0.1", port=port))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 15, "the web server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium(url: str, width: int = 1280, height: int = 900) -> AsyncIterator[Browser]:
    opened = browser(url, width, height)
    b = await asyncio.to_thread(opened.__enter__)
    try:
        yield b
    finally:
        await asyncio.to_thread(opened.__exit__, None, None, None)


async def step(fn: Callable[[], T]) -> T:
    """One blocking browser step, off the loop that serves the page and runs the call."""
    return await asyncio.to_thread(fn)


def row_numbers(b: Browser) -> set[str]:
    return {th.text for th in b.finds("#live table tbody th[scope=row]")} if b.finds("#live") else set()


async def test_the_operator_signs_in_and_watches_a_live_call(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    conference = r.room.conference_number
    bridge = names.bridge_name(conference)
    caller = system.caller()
    await caller.join(conference, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == caller.uniqueid)
    await until(lambda: system.controller.live.members.get(bridge), what="the live member")
    token = operator_token(system.settings)

    async with serving(system) as url, chromium(url) as b:

        def sign_in() -> None:
            b.open("/dashboard?refresh=2")
            b.wait(lambda d: "/panel/login" in d.current_url, what="the sign-in page")
            b.fill("Operator token", token)
            b.click("Sign in as operator")
            b.wait_text("Operations dashboard")
            b.open("/dashboard?refresh=2")  # sign-in lands on /dashboard; ask for quick updates
            b.wait_text(conference)

        await step(sign_in)
        members = await step(lambda: b.find(f'[data-figure="members-{conference}"]').text)
        assert members == "1"
        assert await step(lambda: b.find('[data-figure="ami"]').text) == "connected"
        await step(lambda: b.shot("dashboard-live-call"))

        def lower_sections() -> None:
            for section in ("seats", "lockouts"):
                b.driver.execute_script(f"document.getElementById('{section}').scrollIntoView()")
                b.shot(f"dashboard-{section}")

        await step(lower_sections)

        # the page updates itself: the caller hangs up and the row goes, without a reload
        await caller.hangup()
        await step(lambda: b.wait(lambda _d: conference not in row_numbers(b), 20, "the row to go"))
        await step(lambda: b.shot("dashboard-after-hangup"))

        def pause() -> str:
            b.click("Auto-refresh every 2 s")
            return str(b.find("#auto-refresh").get_attribute("aria-pressed"))

        assert await step(pause) == "false"
        assert "paused" in await step(lambda: b.find("#refresh-status").text)

    async with serving(system) as url, chromium(url, 390, 844) as phone:

        def on_a_phone() -> tuple[int, int]:
            phone.open("/panel/login?next=/dashboard")
            phone.fill("Operator token", token)
            phone.click("Sign in as operator")
            phone.wait_text("Seats: reserved, live, used and capacity")
            phone.shot("dashboard-phone")
            width = phone.driver.execute_script("return document.documentElement.scrollWidth")
            return int(width), int(phone.driver.execute_script("return window.innerWidth"))

        scroll_width, window_width = await step(on_a_phone)
        assert scroll_width <= window_width  # tables scroll in their own box; the page does not
        headings = await step(lambda: [h.text for h in phone.driver.find_elements(By.TAG_NAME, "h2")])
        assert "PIN lockouts" in headings and "Conference ends" in headings
    system.booking.cancel(r.id or 0)
