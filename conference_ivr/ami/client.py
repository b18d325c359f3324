"""A reconnecting AMI client over panoramisk's ``Manager``.

What it adds to panoramisk 1.4 (each pinned by a test in tests/protocol/test_ami_client.py):
- every action is sent with an explicit ``as_list`` or as a known list action, so replies
  like PlayDTMF's "... successfully queued" never reach ``Action.multi``'s ``KeyError: 'async'``
  that kills the connection;
- every action has a timeout, so a lost reply never hangs the caller;
- event callbacks get typed events, are awaited in our own tasks, and their exceptions are logged
  (panoramisk fires them with ``ensure_future`` and drops the errors);
- after every (re)connect, Asterisk's ``FullyBooted`` triggers the resync callbacks.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from panoramisk import Manager

from conference_ivr.ami.events import AmiEvent, FullyBooted, parse_event
from conference_ivr.errors import AmiUnavailable, refusal

log = structlog.get_logger(__name__)

EventHandler = Callable[[AmiEvent], Awaitable[None] | None]
ResyncHandler = Callable[[], Awaitable[None]]

# Actions whose success reply is a list of events ended by a "...Complete" event, and Originate
# (Async), whose reply is "successfully queued" followed by an OriginateResponse. panoramisk
# detects these itself (EventList: start); everything else goes as a single reply.
LIST_ACTIONS = frozenset({"confbridgelist", "confbridgelistrooms", "coreshowchannels", "status", "originate"})


class _ClosableManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager reconnects from a timer that ``close()`` does not cancel;
    once closed, this one neither connects again nor keeps a late connection."""

    closed = False

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.closed:
            return None
        return super().connect(*args, **kwargs)

    def connection_made(self, f: Any) -> None:
        if self.closed:
            if not f.cancelled() and f.exception() is None:
                transport, _protocol = f.result()
                transport.close()
            return
        super().connection_made(f)

    def close(self) -> None:
        self.closed = True
        super().close()


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        reconnect_s: float = 1.0,
        action_timeout_s: float = 10.0,
        events: str = "on",
        typed_only: bool = False,
    ) -> None:
        self._manager = _ClosableManager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            events=events,
            reconnect_timeout=max(1, round(reconnect_s)),
            ping_delay=10,
            ping_interval=10,
            on_disconnect=self._on_disconnect,
            on_login=self._on_login,
        )
        self._action_timeout = action_timeout_s
        self._handlers: list[EventHandler] = []
        # Handlers see only the events parse_event types (Confbridge*, Hangup...): the others
        # (Newchannel, Newstate, BridgeEnter... dozens per call) are dropped after parsing
        # instead of costing a task per handler each.
        self._typed_only = typed_only
        self._resync: list[ResyncHandler] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self._manager.register_event("*", self._dispatch)

    # --- lifecycle ---------------------------------------------------------------------

    async def connect(self, wait_s: float | None = None) -> None:
        """Start connecting (and reconnecting for ever); optionally wait until logged in."""
        self._manager.connect()
        if wait_s is not None:
            await self.wait_ready(wait_s)

    async def wait_ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError as exc:
            raise AmiUnavailable(f"AMI not ready after {timeout}s") from exc

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def close(self) -> None:
        self._ready.clear()
        self._manager.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_login(self, _manager: Any) -> None:
        if self._manager.closed:
            return
        self._ready.set()
        log.info("ami.logged_in")

    def _on_disconnect(self, _manager: Any, exc: Any) -> None:
        self._ready.clear()
        log.warning("ami.disconnected", reason=str(exc))

    # --- events ------------------------------------------------------------------------

    def on_event(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def on_resync(self, handler: ResyncHandler) -> None:
        """Called after every login once Asterisk reports FullyBooted."""
        self._resync.append(handler)

    def _dispatch(self, _manager: Any, message: Any) -> None:
        if self._manager.closed:
            return
        event = parse_event(dict(message.items()))
        if isinstance(event, FullyBooted):
            self._ready.set()
            for resync in self._resync:
                self._spawn(resync, "ami.resync_failed")
        if self._typed_only and type(event) is AmiEvent:
            return
        for handler in self._handlers:
            self._spawn(lambda h=handler: h(event), "ami.handler_failed")  # type: ignore[misc]

    def _spawn(self, call: Callable[[], Awaitable[None] | None], what: str) -> None:
        # The handler is called inside the task, so a task cancelled before it runs leaves
        # no coroutine behind un-awaited.
        async def run() -> None:
            try:
                result = call()
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(what)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- actions -----------------------------------------------------------------------

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]:
        """Send one action; returns its reply messages (first is the Response).

        Raises AmiUnavailable when not connected or on timeout, AmiRefused (NoSuchConference,
        NoSuchChannel) when Asterisk answers Error.
        """
        if self._manager.protocol is None or not self._ready.is_set():
            raise AmiUnavailable(f"AMI not connected (action {fields.get('Action')})")
        name = str(fields.get("Action", "")).lower()
        as_list = None if name in LIST_ACTIONS else False
        future = self._manager.send_action(dict(fields), as_list=as_list)
        try:
            reply = await asyncio.wait_for(future, timeout or self._action_timeout)
        except TimeoutError as exc:
            raise AmiUnavailable(f"AMI action {fields.get('Action')} timed out") from exc
        messages = reply if isinstance(reply, list) else [reply]
        out = [{str(k): str(v) for k, v in m.items()} for m in messages]
        if out and out[0].get("Response") == "Error":
            raise refusal(str(fields.get("Action")), out[0].get("Message", "error"))
        return out
