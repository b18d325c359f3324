"""Issue 20, the personal link in a real chromium (R42, R49: no PIN): an invitee opens their own
link, types a name and joins over WebRTC a conference where a SIPp caller already is. The call
carries the page's one-time token in X-Dialconf-Join; the controller's `web` route redeems it
and lets the call in with no PIN and no name recording.

Proved: ConfbridgeJoin on AMI for the web channel, DTLS connected and inbound energy rising in
getStats(), each side hearing the other's tone, the moderator's live page listing the web
member by the typed name and dropping it after the hang-up, and the same token refused when
used again (the page's refusal, in words). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.domain.join_links import JoinRefusal, JoinRefused
from booking.domain.model import Role
from conference_ivr.ami.events import ConfbridgeJoin, Hangup
from conference_ivr.dialconf.compose import build_api, controller_routers
from conference_ivr.pbx import names
from tests.support.live_web import new_owner, serving, sign_in
from tests.support.media_browser import media_chromium
from tests.support.poll import until_async
from tests.support.system import System
from tests.support.tone import write_tone
from tests.support.webrtc_address import MediaAddress
from tests.support.webrtc_call import (
    PAGE_HZ,
    audio_flows_both_ways,
    do,
    joined_from_web,
    sipp_member,
)

NAME = "Ola Web"


def personal_link(system: System, reservation_id: int, profile_id: int) -> str:
    """The invitee's link as their invitation carries it."""
    s = system.services
    s.messaging.set_invitees(profile_id, reservation_id, [("ola@example.com", "en")])
    with s.uow() as tx:
        invitee = tx.messages.invitees(reservation_id)[0]
        return s.join_links.link_in(tx, reservation_id, invitee, Role.PARTICIPANT)


async def test_a_personal_link_joins_without_a_pin_and_audio_flows_both_ways(
    web_system: System, web_media: MediaAddress, tmp_path: Path
) -> None:
    system = web_system
    owner, token = new_owner(system)
    r = system.booking.book(system.clock.now(), 60, seats=5, profile=owner)
    assert r.id is not None
    bridge = names.bridge_name(r.room.conference_number)
    link = personal_link(system, r.id, r.room.profile_id)
    sipp, member = await sipp_member(system, r, tmp_path)
    heard_inner = system.asterisk.instance.inner("spool", f"heard-personal-{r.room.conference_number}.sln")
    await system.ami.action(
        {"Action": "MixMonitor", "Channel": member.channel, "File": "", "Options": f"t({heard_inner})"}
    )
    app = build_api(system.services, routers=controller_routers(system.services, system.controller))
    wav = write_tone(tmp_path / "page-tone.wav", PAGE_HZ)
    async with (
        serving(app) as url,
        media_chromium(url, wav) as b,
        httpx.AsyncClient(base_url=url) as moderator,
    ):
        await sign_in(moderator, token, r.id)
        live_state = f"/panel/reservations/{r.id}/live/state"

        async def web_people() -> list[dict[str, Any]]:
            state = (await moderator.get(live_state)).json()
            return [p for p in state["participants"] if p.get("web")]

        await do(b.open, f"/join/{link}")
        await do(b.wait_text, "Join the conference")
        page_token = re.search(r'data-token="([^"]+)"', await do(lambda: b.driver.page_source))
        assert page_token is not None
        await do(b.fill, "Your name, as the others see it", NAME)
        await do(b.click, "Join")
        (web,) = await system.events.wait_for_kind(ConfbridgeJoin, joined_from_web(bridge), timeout=40)
        await do(b.wait_text, "You are in the conference.")
        await do(b.shot, "join-personal-1-in-the-conference")
        # no PIN and no name recording on the way in: the route reads the token and joins
        pin_reads = [
            e for e in system.events.matching(lambda e: e.get("Channel") == web.channel)
            if "dialconf/pin" in str(e.get("Command", "")) or "RECORD FILE" in str(e.get("Command", ""))
        ]  # fmt: skip
        assert pin_reads == []

        heard = system.asterisk.instance.host("spool", f"heard-personal-{r.room.conference_number}.sln")
        await audio_flows_both_ways(b, heard, web_media.address)

        # the moderator's live page lists the web member by the name typed on the page
        async def listed() -> list[dict[str, Any]] | None:
            people = await web_people()
            return people if people else None

        (person,) = await until_async(listed, 15, "the web member on the live page")
        assert person["number"] == f"web · {NAME}" and person["name_text"] == NAME, person
        live_html = (await moderator.get(f"/panel/reservations/{r.id}/live")).text
        assert 'data-web="true"' in live_html and NAME in live_html

        await do(b.click, "Leave")
        await system.events.wait_for(lambda e: isinstance(e, Hangup) and e.uniqueid == web.uniqueid, 15)

        async def gone() -> bool | None:
            return True if not await web_people() else None

        await until_async(gone, 15, "the web member gone from the live page")

        await do(b.shot, "join-personal-2-left")

        # the page's token was used by that call: joining again from the same page is refused
        # in words (reloading mints a new one), and so is the token itself, however it comes
        await do(b.click, "Join")
        await do(b.wait_text, "This page's call was already made. Reload the page to join again.")
        await do(b.shot, "join-personal-3-used-token")
        with pytest.raises(JoinRefused) as used:
            await do(system.services.join_links.redeem, page_token.group(1), "again")
        assert used.value.reason is JoinRefusal.USED
        assert len(system.events.matching(joined_from_web(bridge))) == 1
    await system.ami.action({"Action": "Hangup", "Channel": member.channel})
    result = await asyncio.wait_for(sipp, 30)
    assert result.returncode == 0, result.output[-2000:]
