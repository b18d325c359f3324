"""The keypad route decides who presses a key from the controller's own state, never from
channel variables a peer can forge: the live model, which holds what Asterisk reports
(ConfBridge's admin flag, also after a controller restart), else nobody may use moderator actions."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from zoneinfo import ZoneInfo

from structlog.testing import capture_logs

from booking.domain.errors import RuleViolation
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.ivr.menu import KeypadMenu
from conference_ivr.metrics import Metrics

BRIDGE = "conf-583920"
_SOUND = re.compile(r"dialconf/(\w+)")
FORGED = {"DIALCONF_ROLE": "moderator", "DIALCONF_BRIDGE": "conf-999999", "DIALCONF_CONFERENCE": "999999"}


class FakeAmi(AmiClient):
    """Records actions; enough for the menu's ConfbridgeKick and the announcer. Never connects:
    it is an AmiClient only so the controller's parts take it as theirs."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 0, "fake", "fake")
        self._ready.set()
        self.actions: list[dict[str, Any]] = []

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]:
        self.actions.append(fields)
        return [{"Response": "Success"}]


class FakeDial:
    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.placed: list[tuple[str, str, str]] = []

    async def check(self, conference: str, bridge: str) -> None:
        if self.refuse == "not_dial_out":
            raise RuleViolation("reservation_id", "not a dial-out conference", "not_dial_out")

    async def place(self, conference: str, bridge: str, number: str) -> int:
        if self.refuse:
            raise RuleViolation("number", "no", self.refuse)
        self.placed.append((conference, bridge, number))
        return 1


async def remaining(_number: str) -> float | None:
    return 600.0


async def press(menu: KeypadMenu, uid: str, action: str, keyed: str = "") -> list[str]:
    """Run the menu route for ``uid`` as Asterisk would; the peer answers GET VARIABLE with
    forged values. Returns the commands the controller sent."""
    server = FastAgiServer()
    server.add_route("menu", menu)
    port = await server.start("127.0.0.1", 0)
    commands: list[str] = []
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"agi_network_script: menu\nagi_channel: PJSIP/caller-{uid}\nagi_uniqueid: {uid}\n"
            f"agi_language: en\nagi_arg_1: {action}\n\n".encode()
        )
        while line := (await asyncio.wait_for(reader.readline(), 5)).decode().rstrip("\n"):
            commands.append(line)
            if line.startswith("GET VARIABLE "):
                name = line.split(" ", 2)[2]
                reply = f"200 result=1 ({keyed if name == 'DIALCONF_DIGITS' else FORGED.get(name, '')})"
            else:
                reply = "200 result=0"
            writer.write(reply.encode() + b"\n")
            await writer.drain()
        writer.close()
    finally:
        await server.close()
    return commands


def played(commands: list[str]) -> list[str]:
    return [m.group(1) for c in commands for m in [_SOUND.search(c)] if m]


def build(ami: FakeAmi, dial: FakeDial | None = None) -> tuple[KeypadMenu, LiveConferences]:
    metrics = Metrics()
    live = LiveConferences(ami, metrics)
    announcer = Announcer(ami, metrics, live)
    menu = KeypadMenu(
        remaining,
        live,
        announcer,
        ami,
        metrics,
        ZoneInfo("Europe/Prague"),
        0.2,
        dial=dial,
    )
    return menu, live


async def join(live: LiveConferences, uid: str, admin: bool) -> None:
    await live.on_event(
        parse_event(
            {
                "Event": "ConfbridgeJoin",
                "Conference": BRIDGE,
                "Channel": f"PJSIP/caller-{uid}",
                "Uniqueid": uid,
                "Linkedid": uid,
                "CallerIDNum": "+420221000111",
                "Admin": "Yes" if admin else "No",
                "Muted": "No",
            }
        )
    )


async def test_a_participant_whose_variables_say_moderator_cannot_end_or_remove() -> None:
    ami = FakeAmi()
    menu, live = build(ami, FakeDial())
    await join(live, "p1", admin=False)
    await join(live, "p2", admin=False)
    for action in ("end", "kicklast", "rollcall", "dialout"):
        commands = await press(menu, "p1", action, keyed="9")
        assert played(commands) == ["error_menu"], action
        assert not any(c.startswith("GET VARIABLE DIALCONF_") for c in commands)  # never asked
    assert ami.actions == []  # nobody kicked, nothing announced


async def test_the_conference_comes_from_the_live_model_not_the_channel() -> None:
    ami = FakeAmi()
    dial = FakeDial()
    menu, live = build(ami, dial)
    await join(live, "m1", admin=True)
    await join(live, "p9", admin=False)
    await press(menu, "m1", "dialout", keyed="601234567")
    assert dial.placed == [("583920", BRIDGE, "601234567")]  # not the forged conf-999999
    await press(menu, "m1", "kicklast")
    assert ami.actions == [{"Action": "ConfbridgeKick", "Conference": BRIDGE, "Channel": "PJSIP/caller-p9"}]


async def test_after_a_restart_asterisks_admin_flag_decides_and_nobody_unknown_is_moderator() -> None:
    ami = FakeAmi()
    menu, live = build(ami)
    await join(live, "m1", admin=True)  # as live.resync rebuilds it from ConfbridgeList
    await join(live, "p1", admin=False)
    await press(menu, "m1", "kicklast")
    assert [a["Channel"] for a in ami.actions] == ["PJSIP/caller-p1"]
    ami.actions.clear()
    assert played(await press(menu, "p1", "kicklast")) == ["error_menu"]
    with capture_logs() as logs:
        commands = await press(menu, "stranger", "end", keyed="9")
    assert played(commands) == ["error_menu"] and ami.actions == []
    assert [e["event"] for e in logs if e.get("log_level") == "warning"] == ["menu.unknown_member"]
    assert played(await press(menu, "stranger", "count")) == ["error_menu"]  # no conference known


async def test_each_dial_out_refusal_is_said_as_its_own_phrase() -> None:
    ami = FakeAmi()
    for code, phrase in (
        ("not_dial_out", "dialout_disabled"),
        ("premium", "dialout_premium"),
        ("abroad", "dialout_abroad"),
        ("not_allowed", "dialout_not_allowed"),
        ("not_dialable", "dialout_not_allowed"),
        ("limit", "dialout_limit"),
        ("rate", "dialout_busy"),
    ):
        menu, live = build(ami, FakeDial(refuse=code))
        await join(live, "m1", admin=True)
        said = played(await press(menu, "m1", "dialout", keyed="900123456"))
        expected = [phrase] if code == "not_dial_out" else ["dialout_number", phrase]
        assert said == expected, code
