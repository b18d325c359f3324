"""The FastAGI server: reads headers safely, routes by script name, runs one session per call.

Guards against panoramisk 1.4's ``Application`` flaws (see tests/protocol/test_fastagi_server.py):
- its header loop spins forever on EOF: we use ``readuntil`` under a timeout;
- it wraps sync routes with the removed ``asyncio.coroutine``: we refuse them at registration;
- it catches ``BaseException``: we let cancellation through and log only ``Exception``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable

import structlog

from conference_ivr.agi.protocol import parse_headers
from conference_ivr.agi.session import AgiSession, ExchangeObserver
from conference_ivr.errors import AgiHangup

log = structlog.get_logger(__name__)

Route = Callable[[AgiSession], Awaitable[None]]
_MAX_HEADER_BYTES = 64 * 1024


class FastAgiServer:
    def __init__(self, header_timeout: float = 5.0, observer: ExchangeObserver | None = None) -> None:
        self._routes: dict[str, Route] = {}
        self._header_timeout = header_timeout
        self._observer = observer
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def add_route(self, name: str, route: Route) -> None:
        if not inspect.iscoroutinefunction(route) and not inspect.iscoroutinefunction(
            getattr(route, "__call__", None)  # noqa: B004 - instances with an async __call__
        ):
            raise TypeError(f"FastAGI route {name!r} must be an async function")
        if name in self._routes:
            raise ValueError(f"FastAGI route {name!r} already exists")
        self._routes[name] = route

    @property
    def active_sessions(self) -> int:
        return len(self._tasks)

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._accept, host, port, limit=_MAX_HEADER_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        # Stop accepting, end the sessions, then wait: from Python 3.12.1 wait_closed()
        # also waits for open connections, which would hang while sessions run.
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        finally:
            self._tasks.discard(task)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                block = await asyncio.wait_for(reader.readuntil(b"\n\n"), self._header_timeout)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
                log.warning("agi.bad_header", peer=str(writer.get_extra_info("peername")))
                return
            headers = parse_headers(block)
            route = self._routes.get(headers.route)
            if route is None:
                log.error("agi.no_route", route=headers.route)
                return
            session = AgiSession(headers, reader, writer, observer=self._observer)
            with structlog.contextvars.bound_contextvars(
                call_id=headers.uniqueid, channel=headers.channel, route=headers.route
            ):
                try:
                    await route(session)
                except AgiHangup:
                    log.info("agi.hangup")
                except Exception:
                    log.exception("agi.route_failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
