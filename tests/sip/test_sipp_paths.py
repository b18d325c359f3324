"""The language-independent failure paths over real SIP: wrong PIN and a full conference."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin
from tests.support.ports import free_ports
from tests.support.sipp import run_sipp, scenario
from tests.support.system import System


def _played_on_sip(system: System, caller: str) -> list[str]:
    sip_ids = {
        e.get("Uniqueid")
        for e in system.events.events
        if e.get("Channel", "").startswith("PJSIP/") and e.get("CallerIDNum") == caller
    }
    return [
        e.command.split()[2]
        for e in system.events.events
        if isinstance(e, AgiExecStart)
        and e.get("Uniqueid") in sip_ids
        and e.command.startswith("STREAM FILE")
    ]


async def _call(system: System, tmp_path: Path, steps: list[tuple[float, str]], caller: str) -> None:
    sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
    xml = scenario(steps, tmp_path, hold_s=0, caller=caller, remote_bye=True)
    target = f"127.0.0.1:{system.settings.asterisk.sip_port}"
    result = await run_sipp(xml, tmp_path, "8000", target, sip_port, media_port, timeout=90)
    # SIPp ends well only if Asterisk hung up itself (it waits for Asterisk's BYE)
    assert result.returncode == 0, result.output[-2000:]


async def test_wrong_pin_three_times_over_sip(system: System, tmp_path: Path) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    caller = "+420605000005"
    wrong = "1000000#"
    number = r.room.conference_number + "#"
    # after a wrong PIN the IVR says so and asks for both again: wait for that before keying
    steps = [
        (2.5, "1"),
        (1.0, number),
        (1.5, wrong),
        (6.0, number),
        (1.5, wrong),
        (6.0, number),
        (1.5, wrong),
    ]
    await _call(system, tmp_path, steps, caller)
    played = _played_on_sip(system, caller)
    assert played.count("dialconf/bad_credentials") == 3, played
    assert played[-1] == "dialconf/goodbye"


async def test_full_conference_over_sip(system: System, tmp_path: Path) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=1)
    inside = system.caller()
    await inside.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == inside.uniqueid)
    caller = "+420605000006"
    steps = [(2.5, "1"), (1.0, r.room.conference_number + "#"), (1.5, r.room.pin + "#")]
    await _call(system, tmp_path, steps, caller)
    played = _played_on_sip(system, caller)
    assert played[-2:] == ["dialconf/full", "dialconf/goodbye"], played
    await inside.hangup()
