"""The personal join page's own script in a real chromium (issue 20), against the
``window.DialconfPhone`` API the webrtc side's bundle provides: here a stand-in records the
call it is asked for, so the page's part is proven without media. The page names its token,
calls ``target: 'join'`` with the token in ``X-Dialconf-Join``, shows mute/leave once the call
is confirmed, mutes through the API, lists who is in, and tells a used token in words.
The WebRTC end-to-end (media both ways) comes with the merge of the webrtc branch.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from booking.domain.model import Role
from booking.web.join import join_router
from booking.web.ports import Participant
from conference_ivr.dialconf.services import timezone
from tests.support.browser import async_browser
from tests.support.composed_api import composed_api
from tests.support.live_web import serving

# Stands in for the JsSIP bundle: records the options, answers with the documented methods.
STAND_IN = """
window.calls = []; window.muted = [];
window.DialconfPhone = {call: function (o) {
  window.calls.push({wsUrl: o.wsUrl, target: o.target, extraHeaders: o.extraHeaders});
  window.onState = o.onState;
  return {sendDtmf: function () {}, mute: function (m) { window.muted.push(m); },
          micLevel: function () { return 0.5; }, stats: function () { return {}; },
          hangup: function () { o.onState("ended"); }};
}};
"""


class People:
    def __init__(self) -> None:
        self.now: list[Participant] = []

    def running(self, conference: str) -> bool:
        return bool(self.now)

    def participants(self, conference: str) -> list[Participant]:
        return self.now


async def test_the_page_joins_through_the_phone_api_and_tells_a_used_token(tmp_path: Path) -> None:
    people = People()
    with composed_api(tmp_path) as c:
        s = c.services
        app = c.client.app
        assert isinstance(app, FastAPI)
        app.include_router(
            join_router(s.join_links, c.clock, timezone(s.settings), "ws://127.0.0.1:9/ws", people)
        )
        r = c.booking.book(c.clock.now() + timedelta(minutes=2), 60, 5, profile="org")
        assert r.id is not None
        s.messaging.set_invitees(r.room.profile_id, r.id, [("ola@example.com", "pl")])
        with s.uow() as tx:
            invitee = tx.messages.invitees(r.id)[0]
            link = s.join_links.link_in(tx, r.id, invitee, Role.PARTICIPANT)
        async with serving(app) as url, async_browser(url) as b:

            async def do(call: Any, *args: Any) -> Any:
                return await asyncio.to_thread(call, *args)

            await do(b.open, f"/join/{link}")
            await do(b.wait_text, "Dołącz do konferencji")
            token = re.search(r'data-token="([^"]+)"', await do(lambda: b.driver.page_source))
            assert token is not None
            await do(b.driver.execute_script, STAND_IN)
            await do(b.fill, "Twoje imię, tak jak zobaczą je inni", "Ola Nowak")
            await do(b.click, "Dołącz")
            await do(b.wait, lambda d: d.execute_script("return window.calls.length") == 1, 15, "the call")
            calls = await do(b.driver.execute_script, "return window.calls")
            headers = [f"X-Dialconf-Join: {token.group(1)}"]  # the phone adds X-Dialconf-Web itself
            assert calls == [{"wsUrl": "ws://127.0.0.1:9/ws", "target": "join", "extraHeaders": headers}]
            await do(b.driver.execute_script, "window.onState('in-call')")
            await do(b.wait_text, "Jesteś w konferencji.")
            await do(b.click, "Wycisz")
            assert await do(b.driver.execute_script, "return window.muted") == [True]
            await do(b.wait_text, "Wyłącz wyciszenie")
            people.now = [
                Participant("w", "", False, c.clock.now(), False, False, False, web=True, name="Ola Nowak")
            ]
            await do(b.wait, lambda d: "Ola Nowak" in d.find_element("id", "people").text, 15, "the people")
            await do(b.shot, "join-page-in-call")
            # the controller redeemed the token; the call ends; joining again from this page: "used"
            await do(s.join_links.redeem, token.group(1), "call-1")
            await do(b.click, "Wyjdź")
            await do(b.click, "Dołącz")
            await do(b.wait_text, "Połączenie z tej strony już się odbyło")
            await do(b.shot, "join-page-used-token")
            assert await do(b.driver.execute_script, "return window.calls.length") == 1
