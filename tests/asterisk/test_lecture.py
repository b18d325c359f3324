"""Lecture mode and raised hands against real Asterisk, with real DTMF (AMI PlayDTMF on the
callers' Local channels) and the live page's own endpoints: lecture on mutes the participants,
whose own unmute key does not give them voice; hands show on the page and are read to the
moderator; the floor unmutes that one participant alone; a rebuilt model takes the state up
again from Asterisk; lecture off gives everyone their voice back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from booking.domain.usage import Leg
from conference_ivr.ami.events import AgiExecStart, ConfbridgeMute, ConfbridgeUnmute
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.lecture import LectureMode
from conference_ivr.conference.live import LiveConferences
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from tests.asterisk.test_keypad import heard_out
from tests.asterisk.test_live_control import join, of
from tests.support.caller import LocalCaller
from tests.support.live_web import live_app, new_owner, serving, sign_in
from tests.support.poll import until, until_async
from tests.support.system import System


async def mic(system: System, bridge: str, c: LocalCaller) -> str:
    """ConfBridge's own word on the member's microphone: "Yes" muted, "No" not."""
    items = await system.ami.action({"Action": "ConfbridgeList", "Conference": bridge})
    return next((i.get("Muted", "") for i in items if i.get("Uniqueid") == c.uniqueid), "gone")


async def mics_are(system: System, bridge: str, **wanted: tuple[LocalCaller, str]) -> None:
    """Until every caller's microphone is as wanted (name -> (caller, "Yes"/"No"))."""

    async def holds() -> bool:
        return all([await mic(system, bridge, c) == state for c, state in wanted.values()])

    await until_async(holds, 15, f"microphones { ({k: v[1] for k, v in wanted.items()}) }")


def played_into(system: System, bridge: str, sound: str, count: int = 1) -> Any:
    return system.events.wait_for(
        lambda e: (
            e.get("UserEvent") == "DialconfPlay" and e.get("Bridge") == bridge and sound in e.get("Sound")
        ),
        timeout=15,
        count=count,
    )


class Page:
    def __init__(self, web: httpx.AsyncClient, base: str, csrf: str) -> None:
        self.web, self.base, self.csrf = web, base, csrf

    async def post(self, path: str) -> dict[str, Any]:
        answer = await self.web.post(
            f"{self.base}/{path}", data={"csrf": self.csrf}, headers={"Accept": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def state(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.web.get(f"{self.base}/state")).json()
        return body


def person(state: dict[str, Any], c: LocalCaller) -> dict[str, Any]:
    return next(p for p in state["participants"] if p["id"] == c.uniqueid)


async def test_lecture_mode_raised_hands_and_the_floor(system: System) -> None:
    owner, token = new_owner(system)
    r = system.booking.book(datetime.now(UTC), 60, seats=6, profile=owner)
    assert r.id is not None
    bridge, base = names.bridge_name(r.room.conference_number), f"/panel/reservations/{r.id}/live"
    moderator = await join(system, r, moderator=True)
    first, second = await join(system, r), await join(system, r)
    async with serving(live_app(system)) as url, httpx.AsyncClient(base_url=url) as web:
        page = Page(web, base, await sign_in(web, token, r.id))

        # the moderator's #2: lecture mode on; everyone hears it, the participants are muted
        await moderator.press("#2")
        await played_into(system, bridge, "dialconf/lecture_on")
        await heard_out(system, moderator, "dialconf/lecture_on")
        await mics_are(system, bridge, m=(moderator, "No"), a=(first, "Yes"), b=(second, "Yes"))
        assert (await page.state())["lecture"] is True

        # a participant's own unmute key (1): ConfBridge unmutes, the controller mutes again and says why
        await first.press("1")
        await system.events.wait_for(of(ConfbridgeUnmute, first))
        await system.events.wait_for(of(ConfbridgeMute, first), count=2)  # lecture on, then again
        await heard_out(system, first, "dialconf/lecture_muted")
        await mics_are(system, bridge, a=(first, "Yes"))

        late = await join(system, r)  # joins during the lecture: muted on joining
        await mics_are(system, bridge, late=(late, "Yes"))

        # hands: the second, then the first; shown on the page in that order
        await second.press("0")
        await heard_out(system, second, "dialconf/hand_raised")
        await first.press("0")
        await heard_out(system, first, "dialconf/hand_raised")
        state = await page.state()
        assert (person(state, second)["hand"], person(state, first)["hand"], person(state, late)["hand"]) == (
            1,
            2,
            0,
        )

        # #3: the moderator hears the hands, by their recorded names, in order
        await moderator.press("#3")
        await hands_read(system, moderator, [second, first])

        # #4: the floor to the first raised hand (the second caller): only they are unmuted
        await moderator.press("#4")
        await played_into(system, bridge, "dialconf/has_floor")
        await mics_are(system, bridge, b=(second, "No"), a=(first, "Yes"), late=(late, "Yes"))
        state = await page.state()
        assert person(state, second)["floor"] and person(state, second)["hand"] == 0
        assert person(state, first)["hand"] == 1
        await heard_out(system, moderator, "dialconf/has_floor")
        # #4 again: the floor back, the second caller muted again
        await moderator.press("#4")
        await played_into(system, bridge, "dialconf/floor_back")
        await heard_out(system, moderator, "dialconf/floor_back")
        await mics_are(system, bridge, b=(second, "Yes"))

        # the page's button: the floor to the first caller
        assert (await page.post(f"participants/{first.uniqueid}/floor"))["code"] == "floor_given"
        await mics_are(system, bridge, a=(first, "No"), b=(second, "Yes"), late=(late, "Yes"))

        # a controller started now rebuilds the model from Asterisk and takes the lecture up again
        await late.press("0")
        await heard_out(system, late, "dialconf/hand_raised")
        await taken_up_after_a_restart(system, bridge, first, late)

        # lecture off from the page: everyone speaks again, and hears so
        assert (await page.post("lecture-off"))["code"] == "lecture_off"
        await played_into(system, bridge, "dialconf/lecture_off")
        await mics_are(system, bridge, a=(first, "No"), b=(second, "No"), late=(late, "No"))
        state = await page.state()
        assert state["lecture"] is False and not any(p["floor"] for p in state["participants"])
    for c in (moderator, first, second, late):
        await c.hangup()


async def hands_read(system: System, moderator: LocalCaller, hands: list[LocalCaller]) -> None:
    """Until the moderator was read the names of ``hands``, in that order, after "Raised hands: n"."""

    def names_read() -> list[str] | None:
        said = [
            e.command
            for e in system.events.of_kind(AgiExecStart, lambda e: e.get("Uniqueid") == moderator.uniqueid)
        ]
        starts = [i for i, c in enumerate(said) if "dialconf/hands_a" in c]
        read = [c for c in said[starts[-1] :] if "names/" in c] if starts else []
        return read if len(read) >= len(hands) else None

    read = await until(names_read, 15, "the raised hands' names")
    assert [c.uniqueid in line for c, line in zip(hands, read, strict=False)] == [True] * len(hands)
    await heard_out(system, moderator, hands[-1].uniqueid)


async def taken_up_after_a_restart(
    system: System, bridge: str, floor: LocalCaller, hand: LocalCaller
) -> None:
    """A second model over the test's own AMI connection, as a restarted controller builds it."""
    usage = system.services.usage

    async def open_legs() -> dict[str, Leg]:
        return await asyncio.to_thread(usage.open_legs)

    live = LiveConferences(system.ami, Metrics(), stored=open_legs)
    LectureMode(system.ami.action, live, Announcer(system.ami, Metrics(), live))
    await live.resync()
    c = live.conference(bridge)
    assert c is not None and c.lecture and c.floor == floor.uniqueid
    assert [m.uniqueid for m in c.hands()] == [hand.uniqueid]
