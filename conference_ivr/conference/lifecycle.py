"""Keep every live conference true to its booking (R9, R10, D3).

Each tick, for each conference with members: ``lead`` (5 minutes) before its reservation's
end, the end is decided once (booking.services.endings): extended by one period when the shared
capacity allows (nothing to hear; the same rule applies before the new end), else every member
hears the warning tone and at the end the conference is closed with a spoken goodbye.
Extending at the warning time, not at the end, means that a caller never hears the warning and
is then kept, and that seats promised to the conference cannot be booked away in its last five
minutes. The decision and the warning are stored, so a controller restarted at any moment plays
a warning not yet played, closes a conference whose end has passed, and keeps an extension.

A caller from a mobile network is cut ``mobile_cap`` after their own join (the stored join time
of their leg, not when this controller first saw them), warned ``mobile_warning`` before, once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.live import EndDecision, EndOutcome
from booking.domain.model import Reservation
from booking.domain.usage import EndReason
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import DEFAULT_LANGUAGE, Conference, Member
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

CurrentReservation = Callable[[str], Awaitable[Reservation | None]]
Decide = Callable[[int, datetime, datetime], Awaitable[EndDecision]]  # (reservation, end, until)
Warned = Callable[[int, datetime], Awaitable[None]]  # (reservation, end): the tone was played
CapWarned = Callable[[str], Awaitable[None]]  # unique id: the member heard the cap's warning


class ConferenceLifecycle:
    def __init__(
        self,
        live: LiveConferences,
        current: CurrentReservation,
        decide: Decide,
        warned: Warned,
        announcer: Announcer,
        clock: Clock,
        metrics: Metrics,
        lead: timedelta,
        period: timedelta,
        tick_s: float,
        ami: AmiClient | None = None,
        is_mobile: Callable[[str], bool] = lambda _number: False,
        mobile_cap: timedelta = timedelta(minutes=70),
        mobile_warning: timedelta = timedelta(minutes=1),
        note_end: Callable[[str, EndReason], None] = lambda _key, _reason: None,
        cap_warned: CapWarned | None = None,
    ) -> None:
        self._live = live
        self._current = current
        self._decide = decide
        self._warned = warned
        self._announcer = announcer
        self._clock = clock
        self._metrics = metrics
        self._lead = lead
        self._period = period
        self._tick_s = tick_s
        self._task: asyncio.Task[None] | None = None
        self._ami = ami
        self._is_mobile = is_mobile
        self._mobile_cap = mobile_cap
        self._mobile_warning = mobile_warning
        self._note_end = note_end  # tells the usage records why a leg is about to end
        self._cap_warned = cap_warned
        self._decided: dict[str, EndDecision] = {}  # bridge -> the store's decision for its end
        # bridges being closed now, each by its own task: a goodbye (up to 20 s) must not hold
        # up the other conferences' ends and mobile caps
        self._ending: dict[str, asyncio.Task[None]] = {}
        self._cut: set[str] = set()  # members kicked at the cap, their leave not seen yet

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        for closing in self._ending.values():
            closing.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("lifecycle.tick_failed")
            await asyncio.sleep(self._tick_s)

    async def tick(self) -> None:
        conferences = self._live.conferences()
        live = {c.bridge for c in conferences}
        for bridge in [b for b, t in self._ending.items() if t.done() and b not in live]:
            del self._ending[bridge]  # the session ended with its last member
        for bridge in [b for b in self._decided if b not in live]:
            del self._decided[bridge]  # asked again of the store if the room is used again
        present = {m.uniqueid for c in conferences for m in c.members.values()}
        self._cut &= present
        for c in conferences:
            number = names.parse_bridge_name(c.bridge)
            if number is not None:
                await self._check(c.bridge, number)
        await self._mobile_cap_check(conferences)

    async def _mobile_cap_check(self, conferences: list[Conference]) -> None:
        """R10: a caller from a mobile network is cut after the cap, warned before it."""
        if self._ami is None:
            return
        now = self._clock.now()
        for c in conferences:
            for m in list(c.members.values()):
                if m.uniqueid in self._cut or not self._is_mobile(m.caller_number):
                    continue
                try:
                    if now >= m.joined_at + self._mobile_cap:
                        await self._cut_member(c.bridge, m)
                    elif now >= m.joined_at + self._mobile_cap - self._mobile_warning and not m.cap_warned:
                        await self._warn_member(c.bridge, m)
                except AmiError:
                    log.warning("lifecycle.mobile_action_failed", bridge=c.bridge)

    async def _cut_member(self, bridge: str, m: Member) -> None:
        self._cut.add(m.uniqueid)
        self._metrics.mobile_cuts.inc()
        log.info("lifecycle.mobile_cut", bridge=bridge)
        self._note_end(m.uniqueid, EndReason.MOBILE_CAP)
        await self._ami_action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": m.channel})

    async def _warn_member(self, bridge: str, m: Member) -> None:
        m.cap_warned = True
        log.info("lifecycle.mobile_warned", bridge=bridge)
        # whispered to that caller alone, in their language, while they stay in the mix
        conference = self._live.conference(bridge)
        language = conference.language if conference is not None else DEFAULT_LANGUAGE
        await self._announcer.tell(m, ["dialconf/mobile_warning"], "mobile_warning", language)
        if self._cap_warned is not None:
            await self._cap_warned(m.uniqueid)

    async def _ami_action(self, fields: dict[str, str]) -> None:
        assert self._ami is not None
        await self._ami.action(fields)

    async def _check(self, bridge: str, number: str) -> None:
        if bridge in self._ending and not self._ending[bridge].done():
            return
        reservation = await self._current(number)
        if reservation is None or reservation.ends_at is None or reservation.id is None:
            return  # anytime rooms run until their members leave
        now, end = self._clock.now(), reservation.ends_at
        if now < end - self._lead:
            return
        decision = self._decided.get(bridge)
        if decision is None or (decision.reservation_id, decision.ends_at) != (reservation.id, end):
            decision = await self._decide(reservation.id, end, end + self._period)
            self._decided[bridge] = decision
            self._count(number, decision, end)
        if decision.outcome is EndOutcome.EXTENDED:
            return  # the reservation's end moved: the next tick looks at the new one
        if now >= end:
            if bridge not in self._ending:
                self._ending[bridge] = asyncio.create_task(self._terminate(bridge))
        elif decision.warned_at is None:
            if not await self._play(bridge, ["dialconf/warning_tone"], "warning_tone"):
                return  # tried again next tick
            await self._warned(reservation.id, end)
            self._decided[bridge] = replace(decision, warned_at=now)

    def _count(self, number: str, decision: EndDecision, end: datetime) -> None:
        if decision.outcome is EndOutcome.EXTENDED:
            self._metrics.extensions.labels(result="granted").inc()
            log.info("lifecycle.extended", conference=number, until=(end + self._period).isoformat())
        else:
            self._metrics.extensions.labels(result="denied").inc()
            log.info("lifecycle.warned", conference=number, end=end.isoformat())

    async def _terminate(self, bridge: str) -> None:
        self._metrics.terminations.inc()
        log.info("lifecycle.terminated", bridge=bridge)
        self._note_end(bridge, EndReason.ENDED)
        with contextlib.suppress(AmiError):  # each member hears it in their own language
            await self._announcer.announce_and_wait(
                bridge, ["dialconf/conference_over", "dialconf/goodbye"], "conference_over", timeout=20
            )
        try:
            await self._announcer.kick_all(bridge)
        except AmiError:
            self._ending.pop(bridge, None)  # try again next tick
            log.warning("lifecycle.kick_failed", bridge=bridge)

    async def _play(self, bridge: str, sounds: list[str], kind: str) -> bool:
        conference = self._live.conference(bridge)
        language = conference.language if conference is not None else DEFAULT_LANGUAGE
        try:
            await self._announcer.play(bridge, sounds, language, kind)
        except AmiError:
            log.warning("lifecycle.play_failed", bridge=bridge, kind=kind)
            return False
        return True
