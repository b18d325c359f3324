"""Lecture mode on the live page in a real headless chromium, over a real conference: the
switch mutes the participant, their raised hand (real DTMF) shows, the floor button unmutes
them alone, and the switch off gives everyone their voice back. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from conference_ivr.ami.events import ConfbridgeMute, ConfbridgeUnmute
from conference_ivr.dialconf.compose import build_api
from tests.asterisk.test_keypad import heard_out
from tests.asterisk.test_live_control import join, of
from tests.support.live_web import live_page_router, new_owner, serving
from tests.support.system import System
from tests.web.test_live_browser import chromium, rows, text


async def test_a_moderator_runs_a_lecture_from_the_browser(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    live = f"/panel/reservations/{r.id}/live"
    app = build_api(system.services, routers=[live_page_router(system)])
    moderator = await join(system, r, moderator=True)
    caller = await join(system, r)

    async with serving(app) as url, chromium(url) as b:

        async def do(call: Any, *args: Any) -> Any:
            return await asyncio.to_thread(call, *args)

        await do(b.open, f"/panel/login?next={live}")
        await do(b.fill, "Your profile's API token", token)
        await do(b.click, "Sign in")
        await do(b.wait, lambda _d: caller.caller_id in rows(b), 20, "the caller on the page")

        await do(b.click, "Lecture mode on")
        await system.events.wait_for(of(ConfbridgeMute, caller))
        await do(b.wait, lambda _d: "Give the floor" in rows(b) and "muted" in rows(b), 15, "lecture rows")
        assert "Lecture mode" in text(b, "#lecture")
        await do(b.shot, "lecture-1-on")

        await caller.press("0")  # the caller raises a hand with their keypad
        await heard_out(system, caller, "dialconf/hand_raised")
        await do(b.wait, lambda _d: "raised (1)" in rows(b), 15, "the raised hand on the page")
        await do(b.shot, "lecture-2-hand-raised")

        await do(b.click, "Give the floor")
        await system.events.wait_for(of(ConfbridgeUnmute, caller))
        await do(
            b.wait, lambda _d: "has the floor" in rows(b) and "Take the floor back" in rows(b), 15, "floor"
        )
        row = f'tr[data-id="{caller.uniqueid}"]'
        await do(
            b.wait, lambda _d: "muted" not in text(b, row) and " on " in f" {text(b, row)} ", 15, "unmuted"
        )
        await do(b.shot, "lecture-3-floor-given")

        await do(b.click, "Take the floor back")
        await system.events.wait_for(of(ConfbridgeMute, caller), count=2)
        await do(b.wait, lambda _d: "Give the floor" in rows(b), 15, "the floor taken back")

        await do(b.click, "Lecture mode off")
        await system.events.wait_for(of(ConfbridgeUnmute, caller), count=2)
        await do(b.wait, lambda _d: "Give the floor" not in rows(b), 15, "lecture mode off on the page")
        assert "Everyone may speak" in text(b, "#lecture")
        assert not system.events.matching(of(ConfbridgeMute, moderator))
        await do(b.shot, "lecture-4-off")
    for c in (moderator, caller):
        await c.hangup()
