"""A browser in a WebRTC call and a SIPp member beside it (issue 20): what the webrtc tier's
tests share. The page's ``window.dialconfCall`` is the DialconfPhone call it made."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from booking.domain.model import Reservation
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin
from conference_ivr.pbx import names
from tests.support.browser import Browser
from tests.support.poll import until_async
from tests.support.ports import free_ports
from tests.support.sipp import SippResult, run_sipp, scenario
from tests.support.system import System
from tests.support.tone import tone_windows

PAGE_HZ = 700  # the browser's fake microphone says this
SIPP_HZ = 1020  # the SIPp member says this
WEB_CHANNEL = f"PJSIP/{names.WEBRTC_ENDPOINT}-"

# Web Audio on the far end's track: the share of energy at ``hz`` (a Goertzel over the last
# 8192 samples), 0..1. Kept on window so each poll reads the same analyser.
HEARD_SHARE_JS = """
const hz = arguments[0];
if (!window.__heard) {
  const pc = window.dialconfCall.connection();
  const track = pc.getReceivers().find((r) => r.track.kind === 'audio').track;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  window.__heard = analyser;
}
const a = window.__heard;
const buf = new Float32Array(a.fftSize);
a.getFloatTimeDomainData(buf);
const rate = a.context.sampleRate, coeff = 2 * Math.cos(2 * Math.PI * hz / rate);
let s1 = 0, s2 = 0, energy = 0;
for (const x of buf) { const s0 = x + coeff * s1 - s2; s2 = s1; s1 = s0; energy += x * x; }
const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
return energy > 1e-6 ? power / (energy * buf.length / 2) : 0;
"""


def book(system: System) -> Reservation:
    return system.booking.book(datetime.now(UTC), 60, seats=5)


async def do(call: Any, *args: Any) -> Any:
    return await asyncio.to_thread(call, *args)


async def stats(b: Browser) -> dict[str, Any]:
    found = await do(
        b.driver.execute_script, "return window.dialconfCall ? await window.dialconfCall.stats() : {}"
    )
    assert isinstance(found, dict)
    return found


def state(b: Browser) -> str:
    return str(b.find("#call-state").text)


def asks(channel: str, phrase: str) -> Any:
    """The IVR reading keys on ``channel`` with the prompt ``phrase``."""
    return lambda e: (
        isinstance(e, AgiExecStart)
        and e.channel == channel
        and "EXEC Read" in e.command
        and f"dialconf/{phrase}" in e.command
    )


def joined_from_web(bridge: str) -> Any:
    return lambda e: (
        isinstance(e, ConfbridgeJoin) and e.conference == bridge and e.channel.startswith(WEB_CHANNEL)
    )


async def sipp_member(
    system: System, r: Reservation, tmp: Path
) -> tuple[asyncio.Task[SippResult], ConfbridgeJoin]:
    """A SIPp caller keys in and then says SIPP_HZ for a minute; it leaves when hung up."""
    steps = [(2.5, "1"), (1.0, r.room.conference_number + "#"), (1.0, r.room.pin + "#")]
    xml = scenario(steps, tmp, hold_s=0, caller="+420603000020", remote_bye=True, tone=(SIPP_HZ, 60.0))
    sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
    target = f"127.0.0.1:{system.settings.asterisk.sip_port}"
    task = asyncio.create_task(run_sipp(xml, tmp, "8000", target, sip_port, media_port, timeout=120))
    bridge = names.bridge_name(r.room.conference_number)
    (join,) = await system.events.wait_for_kind(
        ConfbridgeJoin, lambda e: e.conference == bridge and e.caller_number == "+420603000020", timeout=30
    )
    return task, join


async def audio_flows_both_ways(b: Browser, heard: Path, media_address: str) -> None:
    """The page's call is up (DTLS connected on the test's address), inbound energy rises in
    getStats(), the page hears the SIPp member's tone and ``heard`` (a MixMonitor of what is sent
    to the SIPp member) holds the page's."""
    first = await stats(b)
    assert first["dtlsState"] == "connected", first
    assert first["candidatePair"]["remote"].startswith(media_address + ":"), first

    async def energy_rose() -> bool | None:
        now = await stats(b)
        up = now["totalAudioEnergy"] > first["totalAudioEnergy"]
        return True if up and now["packetsReceived"] > first["packetsReceived"] else None

    await until_async(energy_rose, 15, "inbound audio energy rising in getStats()")

    async def hears_sipp() -> float | None:
        share = float(await do(b.driver.execute_script, HEARD_SHARE_JS, SIPP_HZ))
        return share if share > 0.5 else None

    await until_async(hears_sipp, 20, f"the SIPp member's {SIPP_HZ} Hz in the page's audio")

    async def sipp_heard_the_page() -> list[float] | None:
        found = tone_windows(heard, PAGE_HZ) if heard.is_file() else []
        return found if len(found) >= 20 else None  # 1 s of 50 ms windows

    await until_async(sipp_heard_the_page, 20, f"the page's {PAGE_HZ} Hz in what SIPp heard")
