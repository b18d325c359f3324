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

from conference_ivr.agi.server import FastAgiServer, Route
from conference_ivr.agi.session import AgiSession

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
            await asyncio.sleep(0.01)

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
