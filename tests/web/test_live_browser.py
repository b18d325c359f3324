"""Issue 8's "done when" for the live page: a moderator in a real headless chromium follows a
real conference (Asterisk, the controller, the booking API with its pages) and controls it.

The browser is driven from a thread (selenium blocks); Asterisk, the controller and uvicorn
share the test's event loop. Screenshots of each step go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support import expected_conditions

from conference_ivr.ami.events import ConfbridgeEnd, ConfbridgeLeave, ConfbridgeMute
from conference_ivr.dialconf.compose import build_api
from conference_ivr.pbx import names
from tests.asterisk.test_live_control import join, of
from tests.support.browser import Browser, browser
from tests.support.live_web import live_page_router, new_owner, serving
from tests.support.system import System


@asynccontextmanager
async def chromium(url: str) -> AsyncIterator[Browser]:
    opened = browser(url)
    b = await asyncio.to_thread(opened.__enter__)
    try:
        yield b
    finally:
        await asyncio.to_thread(opened.__exit__, None, None, None)


def text(b: Browser, css: str) -> str:
    """The element's text; "" while the page's script is replacing it."""
    try:
        return str(b.find(css).text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def rows(b: Browser) -> str:
    return text(b, "#rows")


async def test_a_moderator_follows_and_controls_a_conference_in_the_browser(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    bridge, live = names.bridge_name(r.room.conference_number), f"/panel/reservations/{r.id}/live"
    routers = [live_page_router(system)]
    app = build_api(system.services, routers=routers)

    async with serving(app) as url, chromium(url) as b:

        async def do(call: Any, *args: Any) -> Any:
            return await asyncio.to_thread(call, *args)

        await do(b.open, f"/panel/login?next={live}")
        await do(b.fill, "Your profile's API token", token)
        await do(b.click, "Sign in")
        await do(b.wait_text, "Nobody is in the conference.")
        assert "Not running" in await do(b.text)
        await do(b.shot, "live-1-signed-in-nobody-there")

        caller = await join(system, r)
        await do(b.wait, lambda _d: caller.caller_id in rows(b), 20, "the caller on the page")
        assert "participant" in rows(b) and "Running" in await do(b.text)
        await do(b.shot, "live-2-caller-joined")

        await do(b.click, "Mute")
        await system.events.wait_for(of(ConfbridgeMute, caller))
        await do(b.wait, lambda _d: "muted" in rows(b) and "Unmute" in rows(b), 15, "muted on the page")
        await do(b.shot, "live-3-caller-muted")

        await do(b.click, "Remove")
        await system.events.wait_for(of(ConfbridgeLeave, caller))
        await do(b.wait_text, "Nobody is in the conference.")
        await do(b.wait_text, "removed from the conference")
        await do(b.shot, "live-4-caller-removed")

        moderator = await join(system, r, moderator=True)
        await do(b.wait, lambda _d: moderator.caller_id in rows(b), 20, "the moderator on the page")
        await do(b.click, "End the conference")
        confirm = await do(b.wait, expected_conditions.alert_is_present(), 5, "the confirmation")
        await do(confirm.accept)
        await system.events.wait_for(of(ConfbridgeLeave, moderator), 30)
        # the second session's end: the first ended when its only caller was removed
        await system.events.wait_for(lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, 10, 2)
        await do(b.wait_text, "ended for everyone")
        await do(b.wait, lambda _d: text(b, "#running") == "Not running", 15, "not running")
        await do(b.shot, "live-5-conference-ended")

        def sessions(_d: object) -> bool:
            listed = text(b, "#sessions")
            return caller.caller_id in listed and moderator.caller_id in listed

        await do(b.wait, sessions, 20, "both sessions listed with their callers")
        await do(b.shot, "live-6-sessions-listed")
