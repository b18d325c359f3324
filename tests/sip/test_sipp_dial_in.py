"""A real SIP caller: SIPp calls the PJSIP access number and keys digits with RFC 2833."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.pbx import names
from tests.support.ports import free_ports
from tests.support.sipp import run_sipp, scenario
from tests.support.system import System


async def test_sipp_caller_joins_over_pjsip(system: System, tmp_path: Path) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    bridge = names.bridge_name(r.room.conference_number)
    steps = [(2.5, "1"), (1.0, r.room.conference_number + "#"), (1.0, r.room.pin + "#"), (5.0, "#")]
    sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
    target = f"127.0.0.1:{system.settings.asterisk.sip_port}"

    xml = scenario(steps, tmp_path, hold_s=8, caller="+420603000003")
    result = await run_sipp(xml, tmp_path, "8000", target, sip_port, media_port)

    assert result.returncode == 0, result.output[-2000:]
    joins = system.events.of_kind(
        ConfbridgeJoin, lambda e: e.conference == bridge and e.channel.startswith("PJSIP/")
    )
    assert len(joins) == 1, _debug(system)
    (join,) = joins
    assert not join.admin
    assert join.caller_number == "+420603000003"
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == join.uniqueid, timeout=10
    )


def _debug(system: System) -> str:
    return "\n".join(
        f"{e.name} {e.get('Digit')} {e.get('Direction')} {e.get('Command')}"
        for e in system.events.events
        if e.get("Channel", "").startswith("PJSIP/")
        and e.name in ("DTMFEnd", "AGIExecStart", "AGIExecEnd", "DTMFBegin")
    )
