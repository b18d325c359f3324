"""Dial-out (R40, R50): the controller calls participants through the SIP trunk over AMI.

Each tick plans the calls of dial-out reservations whose start has come, then originates
what is due. A call is ``PJSIP/<number>@dialconf-trunk`` into the ``dialconf-dialout``
context, whose ``dialout`` route (conference_ivr/ivr/invitation.py) says who invites the
person and waits for 1. The Originate's reply ends with Asterisk's OriginateResponse: when
nobody answered, the line was busy or the call was rejected, the attempt is recorded and
retried per settings. The channel's unique id is chosen here (Originate's ChannelId): the
call and its attempt; the ``dialout`` route serves only a channel with the id its call's
attempt was given.

At most ``max_ringing`` calls ring at once: a conference's start with thirty invitees, or a
moderator calling again everyone missing, queues the rest, which wait their turn. Whether a
call may be placed at all is DialOutService's decision (booking/services/dialout.py); here the
conference's presence comes from the controller's own live state.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from booking.domain.clock import Clock
from booking.domain.dialout import DialCall, Outcome, Requester, outcome_of, outcome_of_cause
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.model import Reservation
from booking.services.dialout import DialOutService, Presence
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, Hangup
from conference_ivr.conference.live import LiveConferences
from conference_ivr.errors import AmiError
from conference_ivr.pbx import names
from conference_ivr.settings import DialOutSettings

log = structlog.get_logger(__name__)
_CHANNEL_ID = re.compile(r"^dialout-(\d+)-(\d+)$")


def channel_id(call: DialCall) -> str:
    """The unique id the attempt's channel gets: the call and its attempt number."""
    return f"dialout-{call.id}-{call.attempts + 1}"


def call_of(uniqueid: str) -> int | None:
    m = _CHANNEL_ID.match(uniqueid)
    return None if m is None else int(m.group(1))


@dataclass(frozen=True)
class OriginateResult:
    """The OriginateResponse that ends an Originate's reply, typed."""

    answered: bool
    reason: str

    @classmethod
    def of(cls, reply: list[dict[str, str]]) -> OriginateResult | None:
        for message in reply:
            if message.get("Event") == "OriginateResponse":
                return cls(message.get("Response") == "Success", message.get("Reason", ""))
        return None


# Why a request was refused, counted by reason (a Prometheus counter's labels().inc()).
RefusalObserver = Callable[[str], None]


class DialOut:
    def __init__(
        self,
        ami: AmiClient,
        calls: DialOutService,
        settings: DialOutSettings,
        clock: Clock,
        live: LiveConferences | None = None,
        on_refused: RefusalObserver = lambda _code: None,
    ) -> None:
        self._ami = ami
        self._calls = calls
        self._s = settings
        self._clock = clock
        self._live = live
        self._on_refused = on_refused
        self.most_ringing = 0  # the most attempts in flight at once so far (tests, logs)
        self._task: asyncio.Task[None] | None = None
        self._attempts: set[asyncio.Task[None]] = set()  # calls ringing now
        self._causes: dict[str, int] = {}  # dial-out channel -> its hangup cause (Hangup events)
        self._hung_up = asyncio.Condition()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        recovered = await asyncio.to_thread(self._calls.recover)
        if recovered:
            log.info("dialout.recovered", calls=len(recovered))
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        for task in [self._task, *self._attempts]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = None

    def wake(self) -> None:
        """Look for due calls now (a moderator asked for one)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a store or AMI hiccup must not end dial-out for good
                log.exception("dialout.tick_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._s.tick_s)

    async def tick(self) -> None:
        if not self._ami.ready:
            return  # calls wait: nothing can be originated without AMI
        planned = await asyncio.to_thread(self._calls.start_due)
        if planned:
            log.info("dialout.planned", calls=len(planned), reservation=planned[0].reservation_id)
        free = self._s.max_ringing - len(self._attempts)
        if free <= 0:
            return  # the rest wait their turn: an attempt that ends wakes the loop
        for call in (await asyncio.to_thread(self._calls.due))[:free]:
            await asyncio.to_thread(self._calls.calling, call.id)
            # Each call rings on its own: the Originate's reply ends with its OriginateResponse.
            task = asyncio.create_task(self._originate(call))
            self._attempts.add(task)
            task.add_done_callback(self._attempt_ended)
            self.most_ringing = max(self.most_ringing, len(self._attempts))

    def _attempt_ended(self, task: asyncio.Task[None]) -> None:
        self._attempts.discard(task)
        self.wake()  # a line is free: the next due call may ring

    async def _originate(self, call: DialCall) -> None:
        uid = channel_id(call)
        log.info("dialout.calling", call=call.id, attempt=call.attempts + 1, reservation=call.reservation_id)
        try:
            reply = await self._ami.action(
                {
                    "Action": "Originate",
                    "Channel": names.dial_string(self._s.channel, self._calls.policy.trunk_form(call.number)),
                    "Context": names.CONTEXT_DIALOUT,
                    "Exten": "s",
                    "Priority": "1",
                    "Timeout": str(int(self._s.ring_s * 1000)),
                    "CallerID": f'"{self._s.from_user}" <{self._s.from_user}>',
                    "ChannelId": uid,
                    "Variable": f"{names.VAR_DIALOUT}={call.id}",
                    "Async": "true",
                },
                timeout=self._s.ring_s + 15,
            )
            result = OriginateResult.of(reply)
        except AmiError as e:
            log.warning("dialout.originate_failed", call=call.id, error=str(e))
            result = None
        if result is not None and result.answered:
            return  # answered: the dialout route takes it from here
        outcome = outcome_of(result.reason) if result is not None else Outcome.FAILED
        if outcome is Outcome.FAILED and result is not None:
            # Reason 0 says only "failed": the channel's hangup cause tells busy from declined.
            outcome = outcome_of_cause(await self._cause(uid))
        after = await asyncio.to_thread(self._calls.failed, call.id, outcome)
        log.info(
            "dialout.not_reached",
            call=call.id,
            outcome=outcome.value,
            state=after.state.value,
            attempts=after.attempts,
        )

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, Hangup) and call_of(event.uniqueid) is not None:
            async with self._hung_up:
                self._causes[event.uniqueid] = event.cause
                self._hung_up.notify_all()

    async def _cause(self, uid: str, wait_s: float = 2.0) -> int:
        """The hangup cause of an attempt's channel (its Hangup event may come just after)."""
        async with self._hung_up:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hung_up.wait_for(lambda: uid in self._causes), wait_s)
            return self._causes.pop(uid, 0)

    def presence(self, bridge: str) -> Presence:
        """Who is in ``bridge`` now, from the live state: the number a member was called at or
        joined from (the caller id of a called member is ours: the model keeps the number called)."""
        conference = self._live.conference(bridge) if self._live is not None else None
        if conference is None:
            return Presence(False)
        numbers = {m.caller_number for m in conference.members.values()}
        return Presence(bool(conference.members), frozenset(n for n in numbers if n))

    async def request(
        self, reservation_id: int, bridge: str, number: str, by: Requester, current: bool = True
    ) -> int:
        """A moderator's call (R50) into ``bridge``: ``number``, or "" to call again everyone
        dialled for this reservation who is not in it now. How many calls were queued;
        RuleViolation / TooMany (booking.domain.errors) when the call may not be placed.
        ``current``: whether the conference under ``bridge`` is this reservation's."""
        presence = self.presence(bridge) if current else Presence(False)
        try:
            queued = await asyncio.to_thread(self._calls.place, reservation_id, number, by, presence)
        except RuleViolation as e:
            self._on_refused(e.code)
            raise
        self.wake()
        return len(queued)

    async def may_call(self, reservation_id: int, bridge: str, current: bool = True) -> None:
        """Whether this reservation may call out now at all; RuleViolation otherwise."""
        presence = self.presence(bridge) if current else Presence(False)
        try:
            await asyncio.to_thread(self._calls.may_call, reservation_id, presence)
        except RuleViolation as e:
            self._on_refused(e.code)
            raise


# The reservation a conference number belongs to now (read off the event loop).
CurrentReservation = Callable[[str], Awaitable[Reservation | None]]


class KeypadDial:
    """The keypad's dial-out (menu key 8): the conference number's current reservation."""

    def __init__(self, dialout: DialOut, current: CurrentReservation) -> None:
        self._dialout = dialout
        self._current = current

    async def _reservation_id(self, conference: str) -> int:
        r = await self._current(conference)
        if r is None:
            raise RuleViolation("reservation_id", "no reservation runs under this number now", "not_running")
        return r.id

    async def check(self, conference: str, bridge: str) -> None:
        try:
            await self._dialout.may_call(await self._reservation_id(conference), bridge)
        except NotFound as e:  # deleted or ended meanwhile
            raise RuleViolation("reservation_id", "the reservation is over", "not_running") from e

    async def place(self, conference: str, bridge: str, number: str) -> int:
        try:
            rid = await self._reservation_id(conference)
            return await self._dialout.request(rid, bridge, number, Requester.MODERATOR)
        except NotFound as e:
            raise RuleViolation("reservation_id", "the reservation is over", "not_running") from e
