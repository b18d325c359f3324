"""The FastAGI server: reads headers safely, routes by script name, runs one session per call.

Guards against panoramisk 1.4's ``Application`` flaws (see tests/protocol/test_fastagi_server.py):
- its header loop spins forever on EOF: we use ``readuntil`` under a timeout;
- it wraps sync routes with the removed ``asyncio.coroutine``: we refuse them at registration;
- it catches ``BaseException``: we let cancellation through and log only ``Exception``.

And against peers it should not serve (threat model: docs/security/dialout-and-agi.md):
- only peers on the allow-list (default loopback) are served; any other connection is closed
  before a byte is read, logged as a security event and counted;
- at most ``max_sessions`` sessions at once: beyond it a connection is closed at once, logged
  and counted, so a flood cannot exhaust the controller;
- every reply is awaited for ``reply_timeout`` seconds beyond the command's own wait
  (conference_ivr.agi.session), so a stalled peer is dropped after about a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
from collections.abc import Awaitable, Callable, Iterable

import structlog

from conference_ivr.agi.protocol import parse_headers
from conference_ivr.agi.session import AgiSession, ExchangeObserver
from conference_ivr.errors import AgiHangup

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")

Route = Callable[[AgiSession], Awaitable[None]]
# Told why a connection was closed unserved, "peer" (not allowed) or "capacity" (too many
# sessions), or dropped, "reply_timeout" (a reply never came).
DropObserver = Callable[[str], None]
_MAX_HEADER_BYTES = 64 * 1024
LOOPBACK = ("127.0.0.1", "::1")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def peer_networks(peers: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``); ValueError on a typo."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in peers)


def peer_allowed(peername: object, allowed: tuple[Network, ...]) -> bool:
    """Whether a socket's peer address is on the allow-list (IPv4 seen as ::ffff:a.b.c.d too)."""
    if not isinstance(peername, tuple) or not peername:
        return False
    try:
        address = ipaddress.ip_address(str(peername[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


class FastAgiServer:
    def __init__(
        self,
        header_timeout: float = 5.0,
        observer: ExchangeObserver | None = None,
        reply_timeout: float = 60.0,
        max_sessions: int = 1000,
        allowed_peers: Iterable[str] = LOOPBACK,
        on_dropped: DropObserver = lambda _reason: None,
    ) -> None:
        self._routes: dict[str, Route] = {}
        self._header_timeout = header_timeout
        self._observer = observer
        self._reply_timeout = reply_timeout
        self._max_sessions = max_sessions
        self._allowed = peer_networks(allowed_peers)
        self._on_dropped = on_dropped
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
        peer = writer.get_extra_info("peername")
        if not peer_allowed(peer, self._allowed):
            security.warning("agi.peer_refused", peer=str(peer[0] if isinstance(peer, tuple) else peer))
            await self._refuse(writer, "peer")
            return
        if len(self._tasks) >= self._max_sessions:
            log.warning("agi.over_capacity", sessions=len(self._tasks), max_sessions=self._max_sessions)
            await self._refuse(writer, "capacity")
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _refuse(self, writer: asyncio.StreamWriter, reason: str) -> None:
        self._on_dropped(reason)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()

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
            session = AgiSession(headers, reader, writer, self._reply_timeout, self._observer)
            with structlog.contextvars.bound_contextvars(
                call_id=headers.uniqueid, channel=headers.channel, route=headers.route
            ):
                try:
                    await route(session)
                except AgiHangup:
                    if not session.timed_out:
                        log.info("agi.hangup")
                except Exception:
                    log.exception("agi.route_failed")
                if session.timed_out:  # whether or not the route caught it: the session is over
                    log.warning("agi.reply_timeout")
                    self._on_dropped("reply_timeout")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
