"""Issue 20, the public join page in a real chromium: someone with only the conference number
and the PIN keys them on /join; the page calls the access number over WebRTC (JsSIP over a
WebSocket into Asterisk, ICE on the test's private address, DTLS-SRTP) and keys 1, the number
and the PIN as RFC 4733 DTMF into the phone callers' IVR. A SIPp caller is already in.

Proved both ways: the SIPp member hears the page's tone (AMI MixMonitor of what is sent to it,
found by Goertzel) and the page hears the SIPp member's tone (Web Audio in the page); the page's
getStats() shows DTLS connected and inbound audio energy rising. A wrong PIN is refused by the
IVR as a phone caller is. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from conference_ivr.ami.events import AgiExecStart, AmiEvent, ConfbridgeJoin, Hangup
from conference_ivr.dialconf.compose import build_api
from conference_ivr.pbx import names
from tests.support.browser import Browser
from tests.support.live_web import serving
from tests.support.media_browser import media_chromium
from tests.support.poll import until_async
from tests.support.system import System
from tests.support.tone import tone_windows, write_tone
from tests.support.webrtc_address import MediaAddress
from tests.support.webrtc_call import (
    HEARD_SHARE_JS,
    PAGE_HZ,
    SIPP_HZ,
    WEB_CHANNEL,
    asks,
    book,
    do,
    joined_from_web,
    sipp_member,
    state,
    stats,
)


async def key_in(b: Browser, number: str, pin: str) -> None:
    await do(b.open, "/join")
    await do(b.fill, "Conference number", number)
    await do(b.fill, "PIN", pin)
    await do(b.click, "Call")


async def press(b: Browser, keys: str) -> None:
    """Click the page's keypad: in a call each key goes as RFC 4733 DTMF."""
    for key in keys:
        await do(b.find(f'.keypad button[data-key="{key}"]').click)


async def test_the_public_page_joins_a_conference_and_audio_flows_both_ways(
    web_system: System, web_media: MediaAddress, tmp_path: Path
) -> None:
    system = web_system
    r = book(system)
    bridge = names.bridge_name(r.room.conference_number)
    sipp, member = await sipp_member(system, r, tmp_path)
    heard_inner = system.asterisk.instance.inner("spool", f"heard-{r.room.conference_number}.sln")
    await system.ami.action(
        {"Action": "MixMonitor", "Channel": member.channel, "File": "", "Options": f"t({heard_inner})"}
    )
    wav = write_tone(tmp_path / "page-tone.wav", PAGE_HZ)
    app = build_api(system.services)
    async with serving(app) as url, media_chromium(url, wav) as b:
        await key_in(b, r.room.conference_number, r.room.pin)
        (web,) = await system.events.wait_for_kind(ConfbridgeJoin, joined_from_web(bridge), timeout=40)
        # the IVR's per-caller limits key on the client's address, not on what the page wrote
        assert web.caller_number == "web-127.0.0.1"
        await do(b.wait, lambda _d: state(b) == "Connected", 20, "the page connected")
        await do(b.shot, "join-public-1-in-the-conference")

        first = await stats(b)
        assert first["dtlsState"] == "connected", first
        assert first["candidatePair"]["remote"].startswith(web_media.address + ":"), first
        assert first["candidatePair"]["state"] == "succeeded", first
        assert first["codec"].lower() == "audio/opus", first  # Opus preferred over u-law

        async def energy_rose() -> dict[str, Any] | None:
            now = await stats(b)
            rose = (
                now["totalAudioEnergy"] > first["totalAudioEnergy"]
                and now["packetsReceived"] > first["packetsReceived"]
            )
            return now if rose else None

        await until_async(energy_rose, 15, "inbound audio energy rising in getStats()")

        async def hears_sipp() -> float | None:
            share = float(await do(b.driver.execute_script, HEARD_SHARE_JS, SIPP_HZ))
            return share if share > 0.5 else None

        await until_async(hears_sipp, 20, f"the SIPp member's {SIPP_HZ} Hz in the page's audio")
        level = float(await do(b.driver.execute_script, "return window.dialconfCall.micLevel()"))
        assert level > 0.05, level
        await do(b.shot, "join-public-2-hearing-the-other-member")

        heard = system.asterisk.instance.host("spool", f"heard-{r.room.conference_number}.sln")

        async def sipp_heard_the_page() -> list[float] | None:
            found = tone_windows(heard, PAGE_HZ) if heard.is_file() else []
            return found if len(found) >= 20 else None  # 1 s of 50 ms windows

        await until_async(sipp_heard_the_page, 20, f"the page's {PAGE_HZ} Hz in what SIPp heard")

        sending = "return window.dialconfCall.connection().getSenders()[0].track.enabled"
        await do(b.click, "Mute")
        assert await do(b.driver.execute_script, sending) is False
        assert b.find("#mute").get_attribute("aria-pressed") == "true"
        await do(b.click, "Unmute")
        assert await do(b.driver.execute_script, sending) is True

        await do(b.click, "Hang up")
        await system.events.wait_for(lambda e: isinstance(e, Hangup) and e.uniqueid == web.uniqueid, 15)
        await do(b.wait, lambda _d: state(b) == "The call has ended.", 15, "the page shows the end")
        await do(b.shot, "join-public-3-hung-up")
    await system.ami.action({"Action": "Hangup", "Channel": member.channel})
    result = await asyncio.wait_for(sipp, 30)
    assert result.returncode == 0, result.output[-2000:]


async def test_a_wrong_pin_on_the_public_page_is_refused_like_a_phone_callers(
    web_system: System, tmp_path: Path
) -> None:
    system = web_system
    r = book(system)
    bridge = names.bridge_name(r.room.conference_number)
    wrong = "9" if r.room.pin[0] != "9" else "8"
    wrong += r.room.pin[1:]
    app = build_api(system.services)

    def refused(e: AmiEvent) -> bool:
        return (
            isinstance(e, AgiExecStart)
            and e.channel.startswith(WEB_CHANNEL)
            and "dialconf/bad_credentials" in e.command
        )

    async with serving(app) as url, media_chromium(url, write_tone(tmp_path / "t.wav", PAGE_HZ)) as b:
        await key_in(b, r.room.conference_number, wrong)
        (said,) = await system.events.wait_for_kind(AgiExecStart, refused, timeout=40)
        await do(b.shot, "join-public-4-wrong-pin-refused")
        # the caller tries again on the page's keypad, twice more, wrong each time, when the IVR
        # asks again: it ends the call after controller.max_pin_tries, as a phone caller's
        for attempt in (2, 3):
            await system.events.wait_for(asks(said.channel, "conference_number"), timeout=30, count=attempt)
            await press(b, r.room.conference_number + "#" + wrong + "#")
        await system.events.wait_for(
            lambda e: isinstance(e, Hangup) and e.channel == said.channel, timeout=60
        )
        await do(b.wait, lambda _d: state(b) == "The call has ended.", 15, "the page shows the end")
        await do(b.shot, "join-public-5-ended-after-wrong-pins")
    assert not system.events.matching(joined_from_web(bridge))
    assert len(system.events.matching(refused)) == 3
