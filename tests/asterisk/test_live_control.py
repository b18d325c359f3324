"""The moderator's live page against real Asterisk: every action through its HTTP endpoint,
checked by the AMI events it causes and by the page's own Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from booking.domain.errors import CapacityExceeded
from booking.domain.model import Reservation
from booking.web.live import LivePage
from conference_ivr.ami.events import (
    AmiEvent,
    ConfbridgeEnd,
    ConfbridgeJoin,
    ConfbridgeLeave,
    ConfbridgeMute,
    ConfbridgeUnmute,
)
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.web_port import LivePagePort
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.live_web import OPERATOR, live_app, new_owner, serving, sign_in
from tests.support.poll import until
from tests.support.signin import apost_sign_in
from tests.support.system import System

Snapshot = dict[str, Any]


class Stream:
    """Reads the page's event stream like EventSource: reconnects when it ends."""

    def __init__(self, web: httpx.AsyncClient, path: str) -> None:
        self.snapshots: list[Snapshot] = []
        self.comments = 0
        self._task = asyncio.create_task(self._read(web, path))

    async def _read(self, web: httpx.AsyncClient, path: str) -> None:
        while True:
            async with web.stream("GET", path, timeout=None) as r:
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        self.snapshots.append(json.loads(line.removeprefix("data: ")))
                    elif line.startswith(":"):
                        self.comments += 1

    async def wait(
        self, check: Callable[[Snapshot], bool], what: str, timeout: float = 20, since: int | None = None
    ) -> Snapshot:
        """Until the latest snapshot passes ``check`` (or any after index ``since``, for passing
        states like talking); a KeyError counts as not yet."""

        def holds(s: Snapshot) -> bool:
            try:
                return check(s)
            except KeyError:
                return False

        def found() -> Snapshot | None:
            candidates = self.snapshots[-1:] if since is None else self.snapshots[since:]
            return next((s for s in reversed(candidates) if holds(s)), None)

        return await until(found, timeout, what)

    async def __aenter__(self) -> Stream:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


def people(s: Snapshot) -> dict[str, Snapshot]:
    return {p["id"]: p for p in s["participants"]}


def of(kind: type[AmiEvent], c: LocalCaller) -> Callable[[AmiEvent], bool]:
    return lambda e: isinstance(e, kind) and e.get("Uniqueid") == c.uniqueid


async def join(system: System, r: Reservation, moderator: bool = False) -> LocalCaller:
    caller = system.caller(voice="300/200,0/300")  # a "voice": names are recorded, talking detected
    await caller.join(r.room.conference_number, r.room.admin_pin if moderator else r.room.pin, 1.0)
    await system.events.wait_for(of(ConfbridgeJoin, caller))
    return caller


async def locked(system: System, bridge: str) -> str:
    rooms = await system.ami.action({"Action": "ConfbridgeListRooms"})
    return next(room.get("Locked", "") for room in rooms if room.get("Conference") == bridge)


class Page:
    """A signed-in browser without JavaScript's conveniences: posts as fetch() does."""

    def __init__(self, web: httpx.AsyncClient, base: str, csrf: str, stream: Stream) -> None:
        self.web, self.base, self.csrf, self.stream = web, base, csrf, stream

    async def post(self, path: str) -> httpx.Response:
        headers = {"Accept": "application/json"}
        return await self.web.post(f"{self.base}/{path}", data={"csrf": self.csrf}, headers=headers)


async def mute_one_and_all(
    system: System, page: Page, moderator: LocalCaller, participant: LocalCaller
) -> None:
    uid = participant.uniqueid
    answer = await page.post(f"participants/{uid}/mute")
    assert answer.status_code == 200 and answer.json()["ok"], answer.text
    await system.events.wait_for(of(ConfbridgeMute, participant))
    await page.stream.wait(lambda s: people(s)[uid]["muted"], "muted on the page")
    assert (await page.post(f"participants/{uid}/unmute")).status_code == 200
    await system.events.wait_for(of(ConfbridgeUnmute, participant))
    await page.stream.wait(lambda s: not people(s)[uid]["muted"], "unmuted on the page")

    assert (await page.post("mute-all")).status_code == 200
    await system.events.wait_for(of(ConfbridgeMute, participant), count=2)
    s = await page.stream.wait(lambda s: people(s)[uid]["muted"], "all muted on the page")
    assert not people(s)[moderator.uniqueid]["muted"]  # moderators keep their voice
    assert not system.events.matching(of(ConfbridgeMute, moderator))
    assert (await page.post("unmute-all")).status_code == 200
    await system.events.wait_for(of(ConfbridgeUnmute, participant), count=2)


async def lock_and_unlock(system: System, page: Page, bridge: str) -> None:
    assert (await page.post("lock")).json()["code"] == "locked"
    assert await locked(system, bridge) == "Yes"
    await page.stream.wait(lambda s: s["locked"], "locked on the page")
    assert (await page.post("unlock")).status_code == 200
    assert await locked(system, bridge) == "No"
    await page.stream.wait(lambda s: not s["locked"], "open again on the page")


async def test_moderator_controls_a_live_conference_over_http(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    assert r.id is not None and r.ends_at is not None
    bridge, base = names.bridge_name(r.room.conference_number), f"/panel/reservations/{r.id}/live"
    async with serving(live_app(system)) as url, httpx.AsyncClient(base_url=url) as web:
        csrf = await sign_in(web, token, r.id)
        async with Stream(web, f"{base}/events") as stream:
            page = Page(web, base, csrf, stream)
            await stream.wait(lambda s: s["conference"] == r.room.conference_number, "a first snapshot")
            assert not stream.snapshots[0]["running"]
            moderator = await join(system, r, moderator=True)
            participant = await join(system, r)
            both = {moderator.uniqueid, participant.uniqueid}
            s = await stream.wait(lambda s: set(people(s)) == both, "both on the page")
            assert s["running"] and people(s)[moderator.uniqueid]["role"] == "moderator"
            assert people(s)[participant.uniqueid]["number"] == participant.caller_id
            assert people(s)[participant.uniqueid]["name_recorded"] is True
            await stream.wait(lambda s: any(p["talking"] for p in s["participants"]), "talking", since=0)

            await mute_one_and_all(system, page, moderator, participant)
            await lock_and_unlock(system, page, bridge)

            assert (await page.post(f"participants/{participant.uniqueid}/remove")).status_code == 200
            await system.events.wait_for(of(ConfbridgeLeave, participant))
            await stream.wait(lambda s: set(people(s)) == {moderator.uniqueid}, "removed from the page")
            again = await page.post(f"participants/{participant.uniqueid}/remove")
            assert again.status_code == 409 and again.json()["code"] == "gone"

            assert (await page.post("extend")).status_code == 200
            now_ends = system.booking.get(r.room.profile_id, r.id).ends_at
            assert now_ends == r.ends_at + timedelta(minutes=system.settings.controller.extension_minutes)
            await stream.wait(lambda s: s["ends_at"] == now_ends.isoformat(), "the new end on the page")

            assert (await page.post("end")).json()["code"] == "ended"
            await system.events.wait_for(
                lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, 30
            )
            assert system.events.matching(of(ConfbridgeLeave, moderator))
            await stream.wait(lambda s: not s["running"] and not s["participants"], "ended on the page")

        # without JavaScript: a form posts and is sent back to the page, which says what happened
        plain = await web.post(f"{base}/lock", data={"csrf": csrf})
        assert plain.status_code == 303 and plain.headers["location"] == f"{base}?done=not_running"
        assert "The conference is not running." in (await web.get(plain.headers["location"])).text

        # the session is listed with its participants once their legs are written
        def listed() -> bool:
            text = httpx.get(f"{url}{base}", cookies=dict(web.cookies)).text
            return participant.caller_id in text and "kicked" in text and "ended by moderator" in text

        await until(listed, 20, "the past session with its participants", blocking=True)


async def test_extension_is_refused_when_other_bookings_need_the_seats(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    assert r.id is not None and r.ends_at is not None
    blocker = system.booking.book(r.ends_at, 60, seats=system.settings.booking.system_capacity)
    assert blocker.id is not None
    try:
        try:  # queued (over the seat limit): the operator approves what still fits after r
            system.booking.approve(blocker.id)
        except CapacityExceeded as e:
            system.booking.reject(blocker.id, "too big")
            blocker = system.booking.book(r.ends_at, 60, seats=e.refusal.free_seats)
            assert blocker.id is not None
            system.booking.approve(blocker.id)
        async with serving(live_app(system)) as url, httpx.AsyncClient(base_url=url) as web:
            csrf = await sign_in(web, token, r.id)
            refused = await web.post(
                f"/panel/reservations/{r.id}/live/extend",
                data={"csrf": csrf},
                headers={"Accept": "application/json"},
            )
            assert refused.status_code == 409 and refused.json()["code"] == "not_extended"
            assert "cannot be extended" in refused.json()["message"]
            assert system.booking.get(r.room.profile_id, r.id).ends_at == r.ends_at
    finally:
        system.booking.cancel(blocker.id)


async def test_only_its_moderators_see_the_page_and_every_post_needs_the_csrf_token(system: System) -> None:
    owner, token = new_owner(system)
    _other, other_token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    assert r.id is not None
    base = f"/panel/reservations/{r.id}/live"
    async with serving(live_app(system)) as url:
        async with httpx.AsyncClient(base_url=url) as anonymous:
            page = await anonymous.get(base)
            assert page.status_code == 303 and page.headers["location"].startswith("/panel/login?next=")
        async with httpx.AsyncClient(base_url=url) as owner_web:
            await sign_in(owner_web, token, r.id)
            no_token = await owner_web.post(f"{base}/lock", headers={"Accept": "application/json"})
            assert no_token.status_code == 403
            wrong = await owner_web.post(f"{base}/end", data={"csrf": "forged"})
            assert wrong.status_code == 403
        async with httpx.AsyncClient(base_url=url) as stranger:
            assert (await apost_sign_in(stranger, "/panel/login", {"token": other_token})).status_code == 303
            for path in ("", "/events", "/state"):
                assert (await stranger.get(base + path)).status_code == 404
            own = re.search(r'name="csrf" value="([^"]+)"', (await stranger.get("/panel/login")).text)
            csrf = own.group(1) if own else ""
            for path in ("/lock", "/end", "/extend", "/participants/x/remove"):
                assert (await stranger.post(base + path, data={"csrf": csrf})).status_code == 404
            assert (await stranger.get("/panel/reservations/999999/live")).status_code == 404
        async with httpx.AsyncClient(base_url=url) as moderator:
            form = {"conference": r.room.conference_number, "admin_pin": r.room.admin_pin}
            signed = await apost_sign_in(moderator, "/panel/login/moderator", form)
            assert signed.status_code == 303 and signed.headers["location"] == base
            assert (await moderator.get(base)).status_code == 200
            state = (await moderator.get(f"{base}/state")).json()
            assert state["running"] is False and state["participants"] == []
        async with httpx.AsyncClient(base_url=url) as operator:
            await apost_sign_in(operator, "/panel/login/operator", {"token": OPERATOR})
            assert (await operator.get(base)).status_code == 200


def page_on(system: System, control: LiveControl, keepalive_s: float, stream_max_s: float) -> LivePage:
    """The live page over ``control``, through the controller's port as dialconf wires it."""
    assert system.controller.dialout is not None and system.controller.lecture is not None
    s, port = system.services, LivePagePort(control, system.controller.dialout, system.controller.lecture)
    period = timedelta(minutes=15)
    return LivePage(s.booking, s.dialin, s.usage, port, s.clock, period, keepalive_s, stream_max_s)


async def test_the_event_stream_keeps_alive_ends_and_never_holds_on_to_a_closed_page(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    assert r.id is not None
    bridge = names.bridge_name(r.room.conference_number)
    control = system.controller.control
    assert control is not None
    page = page_on(system, control, keepalive_s=0.2, stream_max_s=1.5)
    chunks = [chunk async for chunk in page.stream(r)]  # ends by itself; the browser reconnects
    assert chunks[0].startswith("retry:") and chunks[1].startswith("data: {")
    assert ": keep-alive\n\n" in chunks and control.watchers(bridge) == 0

    with control.watch(bridge) as slow:  # a page that does not read: one flag, however much happens
        for _ in range(10_000):
            control.changed(bridge)
        assert await slow.next(0.1) == {"members"} and await slow.next(0.01) == set()

    small = LiveControl(
        system.ami,
        system.controller.live,
        Announcer(system.ami, Metrics(), system.controller.live),
        max_watches=1,
    )
    crowded = page_on(system, small, keepalive_s=0.2, stream_max_s=0.5)
    with small.watch(bridge):
        assert [chunk async for chunk in crowded.stream(r)] == ["event: busy\ndata: {}\n\n"]

    async with serving(live_app(system)) as url, httpx.AsyncClient(base_url=url) as web:
        await sign_in(web, token, r.id)
        async with web.stream("GET", f"/panel/reservations/{r.id}/live/events") as stream:
            lines = stream.aiter_lines()
            while not (await anext(lines)).startswith("data: "):
                pass
            assert control.watchers(bridge) == 1
        await until(lambda: control.watchers(bridge) == 0, 10, "the closed page's watch to go")


async def test_one_session_follows_at_most_four_pages_and_the_fifth_is_told_why(system: System) -> None:
    """Viewer.nonce is a session: its streams are capped (4), another session is not affected."""
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=5, profile=owner)
    assert r.id is not None
    control = system.controller.control
    assert control is not None
    path = f"/panel/reservations/{r.id}/live/events"

    readers = []  # kept: an iterator left to the garbage collector closes its stream

    async def first_event(stream: httpx.Response) -> None:
        lines = stream.aiter_lines()
        readers.append(lines)
        while not (await anext(lines)).startswith("data: "):
            pass

    async with (
        serving(live_app(system)) as url,
        httpx.AsyncClient(base_url=url) as mine,
        httpx.AsyncClient(base_url=url) as theirs,
        contextlib.AsyncExitStack() as held,
    ):
        await sign_in(mine, token, r.id)
        await sign_in(theirs, token, r.id)  # the same profile, signed in elsewhere: another session
        streams = [await held.enter_async_context(mine.stream("GET", path)) for _ in range(4)]
        for s in streams:
            assert s.status_code == 200
            await first_event(s)
        over = await mine.get(path)
        assert over.status_code == 429 and over.json()["code"] == "too_many_streams"
        assert int(over.headers["Retry-After"]) > 0 and "close one" in over.json()["message"]
        async with theirs.stream("GET", path) as other:
            assert other.status_code == 200
            await first_event(other)
        await streams[0].aclose()
        bridge = names.bridge_name(r.room.conference_number)
        await until(lambda: control.watchers(bridge) == 3, 10, "the closed page's watch to go")
        async with mine.stream("GET", path) as again:
            assert again.status_code == 200
