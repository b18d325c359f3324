"""AmiClient (over panoramisk 1.4) against a fake AMI server on a real socket (notes §4, §11)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin
from conference_ivr.errors import AmiError, AmiRefused, AmiUnavailable, NoSuchChannel, NoSuchConference
from tests.fixtures.ami_streams import JOIN, NO_CONFERENCES, NO_SUCH_CONFERENCE, error, list_rooms
from tests.support.fake_ami import FakeAmi, message
from tests.support.poll import until


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def client(ami: FakeAmi) -> AsyncIterator[AmiClient]:
    c = AmiClient("127.0.0.1", ami.port, "u", "s", reconnect_s=1, action_timeout_s=2)
    yield c
    await c.close()


async def resync_counter(client: AmiClient) -> asyncio.Queue[int]:
    runs: asyncio.Queue[int] = asyncio.Queue()
    count = [0]

    async def resync() -> None:
        count[0] += 1
        await runs.put(count[0])

    client.on_resync(resync)
    return runs


async def test_connect_logs_in_and_resyncs_after_fully_booted(ami: FakeAmi, client: AmiClient) -> None:
    runs = await resync_counter(client)
    assert not client.ready
    await client.connect(wait_s=5)
    assert client.ready
    (login,) = await ami.wait_for("Login")
    assert (login["Username"], login["Secret"], login["Events"]) == ("u", "s", "on")
    assert await asyncio.wait_for(runs.get(), 2) == 1


async def test_action_before_login_is_refused(client: AmiClient) -> None:
    with pytest.raises(AmiError, match="not connected"):
        await client.action({"Action": "Ping"})


async def test_play_dtmf_reply_does_not_kill_the_connection(ami: FakeAmi, client: AmiClient) -> None:
    ami.replies["playdtmf"] = lambda a: message(
        Response="Success", ActionID=a["ActionID"], Message="DTMF successfully queued"
    )
    await client.connect(wait_s=5)
    reply = await client.action(
        {"Action": "PlayDTMF", "Channel": "Local/s@dialconf-drive-0001;1", "Digit": "5"}
    )
    assert len(reply) == 1
    assert (reply[0]["Response"], reply[0]["Message"]) == ("Success", "DTMF successfully queued")
    (sent,) = ami.named("PlayDTMF")
    assert (sent["Channel"], sent["Digit"]) == ("Local/s@dialconf-drive-0001;1", "5")
    pong = await client.action({"Action": "Ping"})  # panoramisk's KeyError 'async' would have closed it
    assert pong[0]["Ping"] == "Pong"


async def test_list_action_returns_the_whole_stream(ami: FakeAmi, client: AmiClient) -> None:
    ami.replies["confbridgelistrooms"] = lambda a: list_rooms(
        a["ActionID"], {"conf-583920": 2, "conf-700100": 1}
    )
    await client.connect(wait_s=5)
    reply = await client.action({"Action": "ConfbridgeListRooms"})
    assert [m.get("Event", m.get("Response")) for m in reply] == [
        "Success",
        "ConfbridgeListRooms",
        "ConfbridgeListRooms",
        "ConfbridgeListRoomsComplete",
    ]
    assert [m["Conference"] for m in reply[1:3]] == ["conf-583920", "conf-700100"]


async def test_error_response_raises(ami: FakeAmi, client: AmiClient) -> None:
    ami.replies["confbridgelistrooms"] = lambda a: error(a["ActionID"], NO_CONFERENCES)
    await client.connect(wait_s=5)
    with pytest.raises(AmiError, match="No active conferences"):
        await client.action({"Action": "ConfbridgeListRooms"})
    assert (await client.action({"Action": "Ping"}))[0]["Response"] == "Success"


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        (NO_CONFERENCES, NoSuchConference),
        (NO_SUCH_CONFERENCE, NoSuchConference),
        ("No Channel by that name found.", NoSuchChannel),
        ("Permission denied", AmiRefused),
    ],
)
async def test_asterisks_error_answers_become_typed_errors(
    ami: FakeAmi, client: AmiClient, said: str, kind: type[AmiRefused]
) -> None:
    ami.replies["confbridgekick"] = lambda a: message(Response="Error", ActionID=a["ActionID"], Message=said)
    await client.connect(wait_s=5)
    with pytest.raises(kind) as raised:
        await client.action({"Action": "ConfbridgeKick", "Conference": "conf-1", "Channel": "x"})
    assert (
        type(raised.value) is kind
        and raised.value.message == said
        and raised.value.action == "ConfbridgeKick"
    )


async def test_a_client_that_is_not_connected_is_unavailable(client: AmiClient) -> None:
    with pytest.raises(AmiUnavailable):
        await client.action({"Action": "Ping"})


async def test_an_unanswered_action_times_out(ami: FakeAmi) -> None:
    quick = AmiClient("127.0.0.1", ami.port, "u", "s", reconnect_s=1, action_timeout_s=0.3)
    try:
        await quick.connect(wait_s=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AmiError, match="timed out"):
            await quick.action({"Action": "ConfbridgeKick", "Conference": "conf-583920", "Channel": "all"})
        assert 0.25 <= loop.time() - started < 2
        assert (await quick.action({"Action": "Ping"}))[0]["Ping"] == "Pong"
    finally:
        await quick.close()


async def test_reconnects_by_itself_and_resyncs_again(ami: FakeAmi, client: AmiClient) -> None:
    runs = await resync_counter(client)
    await client.connect(wait_s=5)
    assert await asyncio.wait_for(runs.get(), 2) == 1
    ami.drop()
    await ami.wait_for("Login", count=2, timeout=5)
    assert await asyncio.wait_for(runs.get(), 5) == 2
    await client.wait_ready(2)
    assert (await client.action({"Action": "Ping"}))[0]["Ping"] == "Pong"


async def _joins(queue: asyncio.Queue[AmiEvent]) -> ConfbridgeJoin:
    while not isinstance(event := await asyncio.wait_for(queue.get(), 2), ConfbridgeJoin):
        pass
    return event


async def test_a_failing_async_handler_is_logged_and_others_still_run(
    ami: FakeAmi, client: AmiClient
) -> None:
    received: asyncio.Queue[AmiEvent] = asyncio.Queue()

    async def broken(event: AmiEvent) -> None:
        raise RuntimeError("handler bug")

    client.on_event(broken)
    client.on_event(received.put)
    await client.connect(wait_s=5)
    with capture_logs() as logs:
        ami.send(JOIN)
        join = await _joins(received)  # the failing handler's task ran first: its log is there
    assert (join.conference, join.channel, join.uniqueid) == (
        "conf-123456",
        "Local/s@dialconf-access-00000003;2",
        "1700000000.7",
    )
    assert join.admin and not join.muted and join.caller_number == "+420602000001"
    failed = next(e for e in logs if e["event"] == "ami.handler_failed")
    assert failed["log_level"] == "error" and failed["exc_info"] is True


async def test_a_failing_sync_handler_does_not_starve_the_next_one(ami: FakeAmi, client: AmiClient) -> None:
    received: asyncio.Queue[AmiEvent] = asyncio.Queue()

    def broken(event: AmiEvent) -> None:
        if isinstance(event, ConfbridgeJoin):
            raise RuntimeError("handler bug")

    client.on_event(broken)
    client.on_event(received.put_nowait)
    await client.connect(wait_s=5)
    with capture_logs() as logs:
        ami.send(JOIN)
        await _joins(received)
        ami.send(JOIN)  # the connection survived the failing handler
        await _joins(received)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["ami.handler_failed"] * 2


async def test_close_while_reconnecting_stays_closed(ami: FakeAmi, client: AmiClient) -> None:
    await client.connect(wait_s=5)
    ami.drop()
    await until(lambda: not client.ready, 2, "the client to see the drop")  # it has no disconnect event
    await client.close()
    with contextlib.suppress(TimeoutError):
        await ami.wait_for("Login", count=2, timeout=2.5)  # reconnect_s=1: it would be back by now
    assert len(ami.named("Login")) == 1, "the closed client logged in again"
    assert not client.ready


async def test_the_controllers_connection_asks_for_its_classes_and_hands_on_only_typed_events(
    ami: FakeAmi,
) -> None:
    c = AmiClient("127.0.0.1", ami.port, "u", "s", events="system,call,user", typed_only=True)
    received: asyncio.Queue[AmiEvent] = asyncio.Queue()
    c.on_event(received.put_nowait)
    try:
        await c.connect(wait_s=5)
        (login,) = await ami.wait_for("Login")
        assert login["Events"] == "system,call,user"
        # A storm's untyped traffic (Newstate, BridgeEnter...) never reaches a handler...
        ami.send(message(Event="Newstate", Channel="PJSIP/sipp-00000001", ChannelState="6"))
        ami.send(message(Event="BridgeEnter", Channel="PJSIP/sipp-00000001"))
        ami.send(JOIN)
        # ...the typed events do, in order (FullyBooted from the login first).
        first = await asyncio.wait_for(received.get(), 2)
        assert first.name == "FullyBooted"
        assert isinstance(await asyncio.wait_for(received.get(), 2), ConfbridgeJoin)
        assert received.empty()
    finally:
        await c.close()
