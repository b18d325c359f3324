"""LiveConferences rebuilt from recorded ConfbridgeListRooms/ConfbridgeList streams over a real AMI socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.model import Role
from booking.domain.usage import Leg
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Arrival
from conference_ivr.metrics import Metrics
from tests.fixtures import ami_streams
from tests.support.fake_ami import FakeAmi, message
from tests.support.poll import until

ANNOUNCER = "Local/s@dialconf-announcer-0001;2"
# conference -> [(channel, uniqueid, admin)]; conf-999000 ends between the two list actions
ROOMS: dict[str, list[tuple[str, str, str]]] = {
    "conf-583920": [
        ("Local/s@dialconf-access-00000001;2", "1700000000.1", "No"),
        ("Local/s@dialconf-access-00000003;2", "1700000000.3", "Yes"),
        (ANNOUNCER, "1700000000.9", "Yes"),
    ],
    "conf-999000": [],
    "conf-700100": [("PJSIP/anonymous-00000005", "1700000000.5", "No")],
}


def list_rooms(action: dict[str, str]) -> str:
    return ami_streams.list_rooms(action["ActionID"], {conf: len(members) for conf, members in ROOMS.items()})


def list_members(action: dict[str, str]) -> str:
    return ami_streams.list_members(action["ActionID"], action["Conference"], ROOMS[action["Conference"]])


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    fake.replies["confbridgelistrooms"] = list_rooms
    fake.replies["confbridgelist"] = list_members
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def wired(ami: FakeAmi) -> AsyncIterator[tuple[AmiClient, LiveConferences, Metrics]]:
    """Wired like the controller: events and resync of one AmiClient feed LiveConferences."""
    client = AmiClient("127.0.0.1", ami.port, "u", "s", reconnect_s=1, action_timeout_s=2)
    metrics = Metrics()
    live = LiveConferences(client, metrics)
    client.on_event(live.on_event)
    client.on_resync(live.resync)
    yield client, live, metrics
    await client.close()


def gauges(metrics: Metrics) -> tuple[float | None, float | None]:
    r = metrics.registry
    return r.get_sample_value("dialconf_conferences_live"), r.get_sample_value("dialconf_members_live")


EXPECTED = {"conf-583920": {"1700000000.1", "1700000000.3"}, "conf-700100": {"1700000000.5"}}


async def test_resync_after_login_fills_members_without_the_announcer(
    ami: FakeAmi, wired: tuple[AmiClient, LiveConferences, Metrics]
) -> None:
    client, live, metrics = wired
    await client.connect(wait_s=5)
    await until(lambda: bool(live.members), 3)
    assert live.members == EXPECTED
    assert gauges(metrics) == (2, 3)
    asked = [a["Conference"] for a in ami.named("ConfbridgeList")]
    assert asked == ["conf-583920", "conf-999000", "conf-700100"]


async def test_resync_with_no_active_conferences_clears_everything(
    ami: FakeAmi, wired: tuple[AmiClient, LiveConferences, Metrics]
) -> None:
    client, live, metrics = wired
    stale = dict(
        Event="ConfbridgeJoin", Conference="conf-123456", Channel="PJSIP/a-1", Uniqueid="1700000000.77"
    )
    await live.on_event(parse_event(stale | {"Admin": "No", "Muted": "No"}))  # from before a restart
    assert live.members == {"conf-123456": {"1700000000.77"}}
    ami.replies["confbridgelistrooms"] = lambda a: ami_streams.error(
        a["ActionID"], ami_streams.NO_CONFERENCES
    )
    await client.connect(wait_s=5)
    await ami.wait_for("ConfbridgeListRooms")
    await until(lambda: not live.members, 3)
    assert gauges(metrics) == (0, 0)


async def test_events_after_resync_keep_members_current(
    ami: FakeAmi, wired: tuple[AmiClient, LiveConferences, Metrics]
) -> None:
    client, live, metrics = wired
    await client.connect(wait_s=5)
    await until(lambda: live.members == EXPECTED, 3)
    join = dict(Privilege="call,all", Conference="conf-700100", Admin="No", Muted="No")
    ami.send(message(Event="ConfbridgeJoin", **join, Channel=ANNOUNCER, Uniqueid="1700000000.10"))
    ami.send(
        message(Event="ConfbridgeJoin", **join, Channel="PJSIP/anonymous-0011", Uniqueid="1700000000.11")
    )
    await until(lambda: "1700000000.11" in live.members["conf-700100"], 3)
    assert live.members["conf-700100"] == {"1700000000.5", "1700000000.11"}
    ami.send(message(Event="ConfbridgeEnd", Privilege="call,all", Conference="conf-583920"))
    await until(lambda: "conf-583920" not in live.members, 3)
    assert gauges(metrics) == (1, 2)


async def test_a_join_during_resync_is_not_lost(
    ami: FakeAmi, wired: tuple[AmiClient, LiveConferences, Metrics]
) -> None:
    client, live, metrics = wired

    def list_then_join(action: dict[str, str]) -> str:
        reply = list_members(action)
        if action["Conference"] == "conf-583920":  # someone joins right after this snapshot
            reply += message(
                Event="ConfbridgeJoin",
                Privilege="call,all",
                Conference="conf-583920",
                Channel="PJSIP/anonymous-0012",
                Uniqueid="1700000000.12",
                Admin="No",
                Muted="No",
            )
        return reply

    ami.replies["confbridgelist"] = list_then_join
    await client.connect(wait_s=5)
    await ami.wait_for("ConfbridgeList", count=3)
    await until(lambda: "conf-700100" in live.members, 3)
    assert live.members["conf-583920"] == EXPECTED["conf-583920"] | {"1700000000.12"}
    assert gauges(metrics) == (2, 4)


T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def test_a_rebuilt_member_is_what_its_stored_leg_says(ami: FakeAmi) -> None:
    """After a restart: the join time, language, name and cap warning come from the store (the
    mobile cap counts from the real join); a member the store never saw joined when answered."""
    leg = Leg("1700000000.1", "583920", 4, "+420602000001", True, Role.PARTICIPANT, "/names/4-1700000000.1",
              T0 - timedelta(minutes=50), language="cs", cap_warned_at=T0 - timedelta(minutes=1))  # fmt: skip

    async def stored() -> dict[str, Leg]:
        return {leg.uniqueid: leg}

    client = AmiClient("127.0.0.1", ami.port, "u", "s", reconnect_s=1, action_timeout_s=2)
    live = LiveConferences(client, Metrics(), FakeClock(T0), stored)
    client.on_resync(live.resync)
    try:
        await client.connect(wait_s=5)
        await until(lambda: live.members == EXPECTED, 3)
    finally:
        await client.close()
    known, unknown = live.member("1700000000.1"), live.member("1700000000.3")
    assert known is not None and unknown is not None
    assert known.joined_at == T0 - timedelta(minutes=50) and known.language == "cs" and known.cap_warned
    assert str(known.name_file) == "/names/4-1700000000.1" and known.caller_number == "+420602000001"
    assert unknown.joined_at == T0 - timedelta(seconds=12) and unknown.moderator and not unknown.language
    conference = live.conference("conf-583920")
    assert conference is not None and conference.language == "cs"  # nobody else chose one


async def test_nothing_of_a_member_stays_after_everyone_leaves() -> None:
    """With no listener at all (name announcements off): the model forgets whoever leaves, and
    an arrival whose caller hung up before joining."""
    live = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics(), FakeClock(T0))
    bridge = "conf-583920"

    def event(name: str, uid: str) -> dict[str, str]:
        return dict(
            Event=name, Conference=bridge, Channel=f"PJSIP/a-{uid}", Uniqueid=uid, Admin="No", Muted="No"
        )

    live.expect(Arrival("u1", "583920", bridge, False, "cs", "+420221000001", None, 5), 0.0)
    await live.on_event(parse_event(event("ConfbridgeJoin", "u1")))
    member = live.member("u1")
    assert member is not None and member.language == "cs"
    live.expect(Arrival("u2", "583920", bridge, False, "de", "+420221000002", None, 5), 0.0)
    await live.on_event(parse_event({"Event": "Hangup", "Channel": "PJSIP/a-u2", "Uniqueid": "u2"}))
    await live.on_event(parse_event(event("ConfbridgeLeave", "u1")))
    assert live.member("u1") is None and live.members == {} and live.conferences() == []
    await live.on_event(parse_event(event("ConfbridgeJoin", "u2")))  # the same id, later: no arrival
    again = live.member("u2")
    assert again is not None and again.language == ""


async def test_a_web_member_is_marked_web_at_join_and_after_a_restart(ami: FakeAmi) -> None:
    """Issue 20: a browser's arrival makes a web member with its typed name and no caller
    number (whatever its SIP caller id says); rebuilt after a restart from its stored leg."""
    live = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics(), FakeClock(T0))
    bridge = "conf-583920"
    arrival = Arrival("w1", "583920", bridge, False, "pl", "", None, 5, web=True, display_name="Ola")
    live.expect(arrival, 0.0)
    join = {"Event": "ConfbridgeJoin", "Conference": bridge, "Channel": "PJSIP/webrtc-01", "Uniqueid": "w1",
            "Admin": "No", "Muted": "No", "CallerIDNum": "anonymous"}  # fmt: skip
    await live.on_event(parse_event(join))
    member = live.member("w1")
    assert member is not None and member.web and member.display_name == "Ola" and member.caller_number == ""
    leg = Leg("1700000000.1", "583920", 4, "", False, Role.PARTICIPANT, None, T0 - timedelta(minutes=5),
              web=True, display_name="Ola")  # fmt: skip

    async def stored() -> dict[str, Leg]:
        return {leg.uniqueid: leg}

    client = AmiClient("127.0.0.1", ami.port, "u", "s", reconnect_s=1, action_timeout_s=2)
    rebuilt = LiveConferences(client, Metrics(), FakeClock(T0), stored)
    client.on_resync(rebuilt.resync)
    try:
        await client.connect(wait_s=5)
        await until(lambda: rebuilt.members == EXPECTED, 3)
    finally:
        await client.close()
    again = rebuilt.member("1700000000.1")
    assert again is not None and again.web and again.display_name == "Ola"
