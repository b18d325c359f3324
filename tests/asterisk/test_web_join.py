"""The ``web`` route on real Asterisk (issue 20): a browser's call with a personal link's token
joins the same ConfBridge as a phone caller, without a PIN, as a member with a seat, marked web
in the live model, on the live page's port and in its usage leg; a used or forged token is
refused aloud and hung up; the seats are checked like a phone caller's.

A Local channel carries no SIP header, so this module's controller reads the token from a
channel variable the test's Originate sets (``TEST_ONLY_JOIN``): the route's token source is
its one seam (``conference_ivr.ivr.web_join.TokenSource``). Everything else is the production
path: the ``dialconf-web`` dialplan, the FastAGI route, the store, ConfBridge. Reading the real
header from a WebRTC call is proven by the browser test when the webrtc branch is merged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from booking.domain.messages import Channel, InviteeDraft
from booking.domain.model import Reservation, Role
from conference_ivr.agi.session import AgiSession
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin, Hangup
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.system import System, isolated_settings, running_asterisk, running_system

TEST_VARIABLE = "TEST_ONLY_JOIN"  # set by this test's Originate only: production reads the SIP header


async def variable_token(agi: AgiSession) -> str:
    return (await agi.get_variable(TEST_VARIABLE)) or ""


@pytest.fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    settings = isolated_settings(Path(tmp_path_factory.mktemp("web")), name="web")
    async with (
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk, web_token=variable_token) as system,
    ):
        yield system


class WebCaller(LocalCaller):
    """A browser's call as the ``web`` route sees it: into ``dialconf-web,join`` with a token."""

    def __init__(self, system: System, token: str) -> None:
        super().__init__(system.ami, system.events, names.WEB_JOIN_EXTEN, caller_id="anonymous")
        self.token = token

    async def joined(self, timeout: float = 20) -> ConfbridgeJoin:
        """Wait until it is in its conference (then it can be hung up)."""
        found = await self.log.wait_for(joined(self.uniqueid), timeout)
        event = found[0]
        assert isinstance(event, ConfbridgeJoin)
        self.channel2 = event.channel
        return event

    async def dial(self) -> None:
        await self.ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{names.WEB_JOIN_EXTEN}@{names.CONTEXT_WEB}",
                "Context": names.CONTEXT_DRIVE,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": self.drive_id,
                "OtherChannelId": self.uniqueid,
                "Variable": [f"{TEST_VARIABLE}={self.token}"],
            }
        )


def joined(uniqueid: str) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == uniqueid


def hung_up(uniqueid: str) -> Predicate:
    return lambda e: isinstance(e, Hangup) and e.uniqueid == uniqueid


def token_for(system: System, r: Reservation, name: str) -> str:
    links = system.services.join_links
    assert r.id is not None
    with system.services.uow() as tx:
        link = links.link_in(tx, r.id, None, Role.PARTICIPANT)
    page = links.open(link)
    links.name(link, page.token, name)
    return page.token


async def refused(system: System, token: str) -> list[str]:
    caller = WebCaller(system, token)
    await caller.dial()
    await system.events.wait_for(hung_up(caller.uniqueid), 20)
    assert not system.events.matching(joined(caller.uniqueid))
    return caller.played()


async def test_a_browser_joins_the_phone_callers_conference_once_per_token(web: System) -> None:
    r = web.booking.book(web.clock.now() + timedelta(minutes=2), 30, seats=2)  # opens 5 min ahead
    phone = web.caller()
    await phone.join(r.room.conference_number, r.room.pin)
    await web.events.wait_for(joined(phone.uniqueid))
    token = token_for(web, r, "Eva Web")
    browser = WebCaller(web, token)
    await browser.dial()
    event = await browser.joined()
    assert event.conference == names.bridge_name(r.room.conference_number) and not event.admin
    assert "pin" not in browser.played()  # R49: no PIN, no name recording
    # the controller's own live model (its AMI events may come after the test's)
    member = await until(lambda: web.controller.live.member(browser.uniqueid), 15, "the web member")
    assert member.web and member.display_name == "Eva Web"
    assert web.controller.live_page is not None
    shown = {p.uniqueid: p for p in web.controller.live_page.participants(r.room.conference_number)}
    assert shown[browser.uniqueid].web and shown[browser.uniqueid].name == "Eva Web"
    assert not shown[phone.uniqueid].web

    def leg_is_web() -> bool:
        with web.services.uow(read_only=True) as tx:
            found = tx.usage.get(browser.uniqueid)
        return found is not None and found.web and found.display_name == "Eva Web" and not found.mobile

    await until(leg_is_web, 15, "the browser's usage leg, marked web")
    # the same token again: used, said so, hung up
    assert (await refused(web, token))[-2:] == ["web_used", "goodbye"]
    # a third member: the two seats are taken (a phone caller's check), said so
    assert (await refused(web, token_for(web, r, "Late")))[-2:] == ["full", "goodbye"]
    # forged: as unknown as a token that never was
    forged = token[:-1] + ("B" if token[-1] != "B" else "C")
    assert (await refused(web, forged))[-2:] == ["web_unknown", "goodbye"]
    assert (await refused(web, ""))[-2:] == ["web_unknown", "goodbye"]
    failures = web.controller.metrics.registry.get_sample_value(
        "dialconf_join_failures_total", {"reason": "web_token"}
    )
    assert failures == 3
    await browser.hangup()


async def test_a_used_token_is_refused_in_its_invitees_language(web: System) -> None:
    r = web.booking.book(None, None, seats=3)
    assert r.id is not None
    links = web.services.join_links
    with web.services.uow() as tx:
        listed = tx.messages.replace_invitees(
            r.id, [InviteeDraft(Channel.EMAIL, "jana@example.com", "cs")], web.clock.now()
        )
        link = links.link_in(tx, r.id, listed[0], Role.PARTICIPANT)
    page = links.open(link)
    caller = WebCaller(web, page.token)
    await caller.dial()
    await caller.joined()
    await caller.hangup()
    await web.events.wait_for(hung_up(caller.uniqueid), 20)
    again = WebCaller(web, page.token)
    await again.dial()
    await web.events.wait_for(hung_up(again.uniqueid), 20)
    assert again.played()[-2:] == ["web_used", "goodbye"]
    languages = [
        e.command
        for e in web.events.matching(lambda e: e.get("Uniqueid") == again.uniqueid)
        if isinstance(e, AgiExecStart) and "CHANNEL(language)" in e.command
    ]
    assert languages == ['SET VARIABLE CHANNEL(language) "cs"']  # the invitee's language
