"""FastAgiServer against fake Asterisk peers on real sockets.

Each test pins one panoramisk 1.4 ``Application`` flaw (notes §2, §11) that the server guards against.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from structlog.testing import capture_logs

from conference_ivr.agi.server import FastAgiServer, Route, peer_allowed, peer_networks
from conference_ivr.agi.session import AgiSession
from conference_ivr.settings import ControllerSettings
from tests.support.poll import until

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Listening:
    server: FastAgiServer
    port: int


def header_block(route: str = "ivr", uniqueid: str = "1700000000.1") -> bytes:
    return (
        "agi_network: yes\n"
        f"agi_network_script: {route}\n"
        f"agi_request: agi://127.0.0.1/{route}\n"
        "agi_channel: Local/s@dialconf-ivr-00000001;2\n"
        "agi_language: en\n"
        f"agi_uniqueid: {uniqueid}\n"
        "agi_callerid: +420221000111\n"
        "agi_arg_1: 8000\n"
        "\n"
    ).encode()


@asynccontextmanager
async def serving(routes: dict[str, Route], header_timeout: float = 5.0) -> AsyncIterator[Listening]:
    server = FastAgiServer(header_timeout=header_timeout)
    for name, route in routes.items():
        server.add_route(name, route)
    port = await server.start(HOST, 0)
    try:
        yield Listening(server, port)
    finally:
        await asyncio.wait_for(server.close(), 5)


async def connect(listening: Listening) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, listening.port)


async def read_to_eof(reader: asyncio.StreamReader, timeout: float = 2.0) -> bytes:
    """What the server sent before closing; fails if it does not close within ``timeout``."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


def recorder() -> tuple[Route, asyncio.Queue[AgiSession]]:
    served: asyncio.Queue[AgiSession] = asyncio.Queue()

    async def route(session: AgiSession) -> None:
        await served.put(session)

    return route, served


async def call(server: Listening, served: asyncio.Queue[AgiSession], uniqueid: str) -> AgiSession:
    """A proper call: headers, then the route runs and the server hangs up."""
    reader, writer = await connect(server)
    writer.write(header_block(uniqueid=uniqueid))
    session = await asyncio.wait_for(served.get(), 2)
    assert await read_to_eof(reader) == b""
    writer.close()
    return session


async def test_eof_inside_the_headers_neither_spins_nor_blocks_the_next_call() -> None:
    route, served = recorder()
    ticks: list[float] = []
    wanted = [0]
    enough = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            if wanted[0] and len(ticks) >= wanted[0]:
                enough.set()
            await asyncio.sleep(0.01)  # the tick period: the loop's latency is what is measured

    async with serving({"ivr": route}) as server:
        tick_task = asyncio.create_task(ticker())
        try:
            reader, writer = await connect(server)
            writer.write(b"agi_network: yes\nagi_network_script: ivr\nagi_chan")
            writer.write_eof()
            assert await read_to_eof(reader) == b""  # the server closed it, it did not loop on EOF
            writer.close()
            session = await call(server, served, "1700000000.2")
            assert session.headers.uniqueid == "1700000000.2"
            wanted[0] = len(ticks) + 10  # the loop keeps ticking while the server holds no spinning peer
            await asyncio.wait_for(enough.wait(), 2)
        finally:
            tick_task.cancel()
        assert server.server.active_sessions == 0
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.25, f"event loop stalled for {max(gaps):.3f}s"


@pytest.mark.parametrize(
    "sent", [b"", b"agi_network: yes\nagi_channel: Local/s@x;2\n"], ids=["silent", "slow"]
)
async def test_a_peer_that_never_finishes_its_headers_is_dropped_after_the_timeout(sent: bytes) -> None:
    route, served = recorder()
    loop = asyncio.get_running_loop()
    async with serving({"ivr": route}, header_timeout=0.3) as server:
        with capture_logs() as logs:
            reader, writer = await connect(server)
            started = loop.time()
            writer.write(sent)
            assert await read_to_eof(reader, timeout=3) == b""
            elapsed = loop.time() - started
            writer.close()
        assert 0.25 <= elapsed < 2
        assert served.empty()
    assert [e["log_level"] for e in logs if e["event"] == "agi.bad_header"] == ["warning"]


async def test_an_oversized_header_block_is_dropped_without_waiting() -> None:
    route, served = recorder()
    loop = asyncio.get_running_loop()
    async with serving({"ivr": route}, header_timeout=10) as server:
        reader, writer = await connect(server)
        started = loop.time()
        writer.write(b"agi_x: " + b"y" * 100_000)
        assert await read_to_eof(reader, timeout=3) == b""
        assert loop.time() - started < 2
        writer.close()
        assert served.empty()
        await call(server, served, "1700000000.3")


def test_sync_routes_are_refused_at_registration() -> None:
    server = FastAgiServer()

    def sync_route(session: AgiSession) -> None:
        return None

    with pytest.raises(TypeError, match="async"):
        server.add_route("ivr", sync_route)  # type: ignore[arg-type]
    route, _ = recorder()

    def returns_a_coroutine(session: AgiSession) -> Awaitable[None]:
        return route(session)

    with pytest.raises(TypeError):
        server.add_route("ivr", returns_a_coroutine)


def test_duplicate_route_names_are_refused() -> None:
    server = FastAgiServer()
    route, _ = recorder()
    server.add_route("ivr", route)
    with pytest.raises(ValueError, match="already exists"):
        server.add_route("ivr", route)


async def test_an_instance_with_an_async_call_is_a_route() -> None:
    class Journey:
        def __init__(self) -> None:
            self.seen: asyncio.Queue[AgiSession] = asyncio.Queue()

        async def __call__(self, session: AgiSession) -> None:
            await self.seen.put(session)

    journey = Journey()
    async with serving({"ivr": journey}) as server:
        session = await call(server, journey.seen, "1700000000.4")
    assert session.headers.args == ("8000",)


async def test_a_failing_route_is_logged_the_call_closed_and_serving_goes_on() -> None:
    async def broken(session: AgiSession) -> None:
        raise RuntimeError("boom")

    route, served = recorder()
    async with serving({"ivr": route, "broken": broken}) as server:
        with capture_logs() as logs:
            reader, writer = await connect(server)
            writer.write(header_block(route="broken"))
            assert await read_to_eof(reader) == b""
            writer.close()
        (failed,) = [e for e in logs if e["event"] == "agi.route_failed"]
        assert failed["log_level"] == "error"
        assert failed["exc_info"] is True
        await call(server, served, "1700000000.5")


async def test_an_unknown_route_is_logged_and_closed() -> None:
    route, served = recorder()
    async with serving({"ivr": route}) as server:
        with capture_logs() as logs:
            reader, writer = await connect(server)
            writer.write(header_block(route="nope/?x=1"))
            assert await read_to_eof(reader) == b""
            writer.close()
        assert served.empty()
    assert [e.get("route") for e in logs if e["event"] == "agi.no_route"] == ["nope"]


async def test_close_cancels_running_sessions_and_does_not_swallow_cancellation() -> None:
    started = asyncio.Event()
    outcome: dict[str, object] = {}

    async def blocked(session: AgiSession) -> None:
        outcome["task"] = asyncio.current_task()
        started.set()
        try:
            await session.command('EXEC ConfBridge "conf-123456"')  # no reply while in the conference
        except asyncio.CancelledError:
            outcome["cancelled"] = True
            raise

    server = FastAgiServer()
    server.add_route("ivr", blocked)
    port = await server.start(HOST, 0)
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(header_block())
    await asyncio.wait_for(started.wait(), 2)
    assert await asyncio.wait_for(reader.readline(), 2) == b'EXEC ConfBridge "conf-123456"\n'
    assert server.active_sessions == 1
    await asyncio.wait_for(server.close(), 2)
    task = outcome["task"]
    assert isinstance(task, asyncio.Task)
    assert task.done() and task.cancelled()
    assert outcome["cancelled"] is True
    assert server.active_sessions == 0
    assert await read_to_eof(reader) == b""
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection(HOST, port)


# --- peers it should not serve (docs/security/dialout-and-agi.md) ----------------------------


@asynccontextmanager
async def guarded(route: Route, **options: object) -> AsyncIterator[tuple[Listening, list[str]]]:
    dropped: list[str] = []
    server = FastAgiServer(on_dropped=dropped.append, **options)  # type: ignore[arg-type]
    server.add_route("ivr", route)
    port = await server.start(HOST, 0)
    try:
        yield Listening(server, port), dropped
    finally:
        await asyncio.wait_for(server.close(), 5)


async def test_a_peer_off_the_allow_list_is_closed_at_once_and_logged() -> None:
    """Everything on 127.0.0.0/8 is this machine's loopback: 127.0.0.2 plays another host."""
    route, served = recorder()
    async with guarded(route, allowed_peers=["127.0.0.1", "::1"]) as (server, dropped):
        with capture_logs() as logs:
            reader, writer = await asyncio.open_connection(HOST, server.port, local_addr=("127.0.0.2", 0))
            writer.write(header_block())
            assert await read_to_eof(reader, timeout=2) == b""
            writer.close()
        assert served.empty() and dropped == ["peer"]
        [refused] = [e for e in logs if e["event"] == "agi.peer_refused"]
        assert refused["peer"] == "127.0.0.2" and refused["log_level"] == "warning"
        session = await call(server, served, "1700000000.7")  # the allowed peer is served
        assert session.headers.uniqueid == "1700000000.7"
    async with guarded(route, allowed_peers=["127.0.0.0/30"]) as (server, dropped):
        reader, writer = await asyncio.open_connection(HOST, server.port, local_addr=("127.0.0.2", 0))
        writer.write(header_block(uniqueid="1700000000.8"))
        assert (await asyncio.wait_for(served.get(), 2)).headers.uniqueid == "1700000000.8"
        writer.close()
        assert dropped == []


def test_peers_are_matched_as_addresses() -> None:
    allowed = peer_networks(["127.0.0.1", "::1", "10.1.0.0/16"])
    assert peer_allowed(("127.0.0.1", 4000), allowed) and peer_allowed(("::1", 4000, 0, 0), allowed)
    assert peer_allowed(("::ffff:127.0.0.1", 4000, 0, 0), allowed)  # IPv4 on a dual-stack socket
    assert peer_allowed(("10.1.2.3", 1), allowed) and not peer_allowed(("10.2.0.1", 1), allowed)
    assert not peer_allowed(("192.168.1.5", 1), allowed) and not peer_allowed(None, allowed)
    with pytest.raises(ValueError):
        peer_networks(["localhost"])


async def test_over_the_session_cap_a_connection_is_closed_at_once_and_counted() -> None:
    release = asyncio.Event()
    inside: asyncio.Queue[str] = asyncio.Queue()

    async def held(session: AgiSession) -> None:
        await inside.put(session.headers.uniqueid)
        await release.wait()

    async with guarded(held, max_sessions=2) as (server, dropped):
        peers = []
        for n in range(2):
            reader, writer = await connect(server)
            writer.write(header_block(uniqueid=f"1700000001.{n}"))
            peers.append((reader, writer))
            await asyncio.wait_for(inside.get(), 2)
        assert server.server.active_sessions == 2
        with capture_logs() as logs:
            reader, writer = await connect(server)
            writer.write(header_block(uniqueid="1700000001.9"))
            assert await read_to_eof(reader, timeout=2) == b""  # closed without being served
            writer.close()
        assert dropped == ["capacity"] and inside.empty()
        assert [e["log_level"] for e in logs if e["event"] == "agi.over_capacity"] == ["warning"]
        release.set()
        for reader, writer in peers:
            assert await read_to_eof(reader) == b""
            writer.close()
        await until(lambda: server.server.active_sessions == 0, 2, "the held sessions to end")
        release.clear()
        reader, writer = await connect(server)  # room again: served
        writer.write(header_block(uniqueid="1700000001.10"))
        assert await asyncio.wait_for(inside.get(), 2) == "1700000001.10"
        release.set()
        writer.close()


async def test_a_peer_that_stops_answering_is_dropped_after_the_reply_timeout() -> None:
    asked = asyncio.Event()

    async def journey(session: AgiSession) -> None:
        await session.answer()
        asked.set()
        await session.command("GET VARIABLE DIALCONF_DIGITS")  # never answered

    loop = asyncio.get_running_loop()
    async with guarded(journey, reply_timeout=0.3) as (server, dropped):
        with capture_logs() as logs:
            reader, writer = await connect(server)
            writer.write(header_block())
            assert await asyncio.wait_for(reader.readline(), 2) == b"ANSWER\n"
            writer.write(b"200 result=0\n")
            assert await asyncio.wait_for(reader.readline(), 2) == b"GET VARIABLE DIALCONF_DIGITS\n"
            started = loop.time()
            assert await read_to_eof(reader, timeout=3) == b""  # the server gave up and closed
            waited = loop.time() - started
            writer.close()
        assert asked.is_set() and 0.25 <= waited < 2
        assert dropped == ["reply_timeout"] and server.server.active_sessions == 0
    assert [e["log_level"] for e in logs if e["event"] == "agi.reply_timeout"] == ["warning"]


def test_the_controller_serves_loopback_only_with_a_cap_and_a_minute_per_reply() -> None:
    c = ControllerSettings()
    assert c.agi_allowed_peers == ["127.0.0.1", "::1"]
    assert c.agi_max_sessions == 1000 and c.agi_reply_timeout_s == 60
