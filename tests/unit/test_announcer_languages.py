"""Which language each member hears an announcement in (conference_ivr.conference.announcer):
one language in the room plays into the bridge as ever; several each get a whisper to their
own members only, in their language; a member out of the mix is left out; a big group is cut
into whispers that fit an AMI header line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from booking.domain.clock import FakeClock
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.announcer import Announcer, batches
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Arrival
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from tests.support.poll import until

pytestmark = pytest.mark.unit

BRIDGE = names.bridge_name("123456")


class ActingAmi(AmiClient):
    def __init__(self) -> None:
        super().__init__("127.0.0.1", 9, "u", "s")
        self.actions: list[dict[str, Any]] = []

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]:
        self.actions.append(fields)
        return [{"Response": "Success"}]

    def originated(self) -> list[tuple[str, dict[str, str]]]:
        """(the Local channel, its variables) of each Originate."""
        return [
            (a["Channel"], dict(v.split("=", 1) for v in a["Variable"]))
            for a in self.actions
            if a["Action"] == "Originate"
        ]


async def room(*members: tuple[str, str, bool]) -> tuple[LiveConferences, ActingAmi, Announcer]:
    """A live conference with (unique id, language, moderator) members, joined in order."""
    ami = ActingAmi()
    live = LiveConferences(ami, Metrics(), FakeClock(datetime(2026, 12, 3, 9, tzinfo=UTC)))
    for uid, language, moderator in members:
        live.expect(Arrival(uid, "123456", BRIDGE, moderator, language, "+420221000111", None), 0.0)
        await live.on_event(
            parse_event(
                {
                    "Event": "ConfbridgeJoin",
                    "Conference": BRIDGE,
                    "Channel": f"PJSIP/a-{uid}",
                    "Uniqueid": uid,
                    "Admin": "Yes" if moderator else "No",
                    "Muted": "No",
                    "BridgeUniqueid": "s1",
                }
            )
        )
    return live, ami, Announcer(ami, Metrics(), live)


async def test_one_language_plays_into_the_bridge_as_before() -> None:
    _live, ami, announcer = await room(("a", "cs", True), ("b", "cs", False))
    assert await announcer.announce(BRIDGE, ["dialconf/being_recorded"], "being_recorded") == 1
    ((channel, variables),) = ami.originated()
    assert channel == f"Local/s@{names.CONTEXT_ANNOUNCER}"
    assert variables[names.VAR_LANGUAGE] == "cs"
    assert names.VAR_TARGETS not in variables


async def test_two_languages_each_hear_their_own_whisper_only() -> None:
    _live, ami, announcer = await room(("a", "en", True), ("b", "cs", False), ("c", "en", False))
    assert await announcer.announce(BRIDGE, ["dialconf/being_recorded"], "being_recorded") == 2
    plays = ami.originated()
    assert {channel for channel, _ in plays} == {f"Local/s@{names.CONTEXT_WHISPER}"}
    heard = {v[names.VAR_LANGUAGE]: v[names.VAR_TARGETS] for _, v in plays}
    assert heard == {"en": "PJSIP/a-a&PJSIP/a-c", "cs": "PJSIP/a-b"}
    assert all(v[names.VAR_SOUND] == "dialconf/being_recorded" for _, v in plays)


async def test_a_member_out_of_the_mix_is_not_whispered_to() -> None:
    _live, ami, announcer = await room(("a", "en", True), ("b", "cs", False))
    assert await announcer.announce(BRIDGE, ["dialconf/ended_by_moderator"], "ended", away={"a"}) == 1
    ((_, variables),) = ami.originated()
    assert (variables[names.VAR_LANGUAGE], variables[names.VAR_TARGETS]) == ("cs", "PJSIP/a-b")


async def test_a_member_of_unknown_language_hears_the_conference_language() -> None:
    """Joined while the controller was down: the moderator's language, the room's."""
    live, ami, announcer = await room(("a", "de", True), ("b", "cs", False), ("c", "", False))
    assert live.conference(BRIDGE) is not None
    await announcer.announce(BRIDGE, ["dialconf/lecture_on"], "lecture")
    heard = {v[names.VAR_LANGUAGE]: v[names.VAR_TARGETS] for _, v in ami.originated()}
    assert heard == {"de": "PJSIP/a-a&PJSIP/a-c", "cs": "PJSIP/a-b"}


async def test_members_waiting_for_the_moderator_are_left_out_as_the_bridge_does() -> None:
    live, ami, announcer = await room(("a", "en", False), ("b", "cs", False))
    conference = live.conference(BRIDGE)
    assert conference is not None
    for m in conference.members.values():
        m.wait_marked = True  # no moderator in: both on hold music
    waiting = live.member("b")
    assert waiting is not None and conference.waiting(waiting)
    assert await announcer.announce(BRIDGE, ["dialconf/being_recorded"], "being_recorded") == 1
    ((channel, variables),) = ami.originated()
    assert channel == f"Local/s@{names.CONTEXT_ANNOUNCER}" and names.VAR_TARGETS not in variables


async def test_tell_reaches_one_member_in_their_language() -> None:
    live, ami, announcer = await room(("a", "en", True), ("b", "pl", False))
    member = live.member("b")
    assert member is not None
    await announcer.tell(member, ["dialconf/mobile_warning"], "mobile_warning")
    ((channel, variables),) = ami.originated()
    assert channel == f"Local/s@{names.CONTEXT_WHISPER}"
    assert (variables[names.VAR_LANGUAGE], variables[names.VAR_TARGETS]) == ("pl", "PJSIP/a-b")


async def test_waiting_ends_when_every_whisper_has_played() -> None:
    _live, ami, announcer = await room(("a", "en", True), ("b", "cs", False))
    waiting = asyncio.create_task(
        announcer.announce_and_wait(BRIDGE, ["dialconf/conference_over"], "over", timeout=30)
    )
    await until(lambda: len(ami.originated()) == 2, 5, "both whispers started")
    played = parse_event({"Event": "UserEvent", "UserEvent": names.USER_EVENT_PLAYED, "Bridge": BRIDGE})
    await announcer.on_event(played)
    await asyncio.sleep(0.05)  # not a wait for a condition: the one play left must hold it
    assert not waiting.done()
    await announcer.on_event(played)
    await asyncio.wait_for(waiting, 2)


def test_batches_cut_at_the_length_and_keep_the_order() -> None:
    assert list(batches(["a" * 10] * 5, max_chars=32)) == [["a" * 10] * 3, ["a" * 10] * 2]
    assert list(batches([], max_chars=32)) == []


def test_a_big_group_is_cut_into_whispers_within_one_ami_line() -> None:
    channels = [f"PJSIP/anonymous-{i:08x}" for i in range(100)]
    cut = list(batches(channels))
    assert [c for batch in cut for c in batch] == channels
    assert all(len("&".join(batch)) <= 800 for batch in cut) and len(cut) > 1
