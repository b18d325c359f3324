"""Keep every live conference true to its booking (R9, D3).

Each tick, for each conference with members: ``lead`` (5 minutes) before its reservation's
end, try to extend it by one period; the shared capacity decides (no other booking may need
the seats). Extended: nothing to hear, and the same rule applies before the new end. Not
extended: every member hears the warning tone now, and at the end the conference is closed
with a spoken goodbye. Extending at the warning time, not at the end, means that a caller
never hears the warning and is then kept, and that seats promised to the conference cannot
be booked away in its last five minutes. Decisions are logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.model import Reservation
from booking.domain.usage import EndReason
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.roster import Roster
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

CurrentReservation = Callable[[str], Awaitable[Reservation | None]]
Extend = Callable[[int, datetime], Awaitable[bool]]


@dataclass
class _Watch:
    decided_for: datetime | None = None  # the end a decision (extend or warn) was made for
    ending: bool = False


class ConferenceLifecycle:
    def __init__(
        self,
        live: LiveConferences,
        roster: Roster,
        current: CurrentReservation,
        extend: Extend,
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
    ) -> None:
        self._live = live
        self._roster = roster
        self._current = current
        self._extend = extend
        self._announcer = announcer
        self._clock = clock
        self._metrics = metrics
        self._lead = lead
        self._period = period
        self._tick_s = tick_s
        self._watch: dict[str, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._ami = ami
        self._is_mobile = is_mobile
        self._mobile_cap = mobile_cap
        self._mobile_warning = mobile_warning
        self._note_end = note_end  # tells the usage records why a leg is about to end
        self._first_seen: dict[str, datetime] = {}  # unique id -> when this controller saw it in
        self._warned: set[str] = set()
        self._cut: set[str] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
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
        live = {bridge for bridge, members in self._live.members.items() if members}
        for bridge in list(self._watch):
            if bridge not in live:
                del self._watch[bridge]  # the session ended with its last member
        for bridge in live:
            number = names.parse_bridge_name(bridge)
            if number is not None:
                await self._check(bridge, number)
        await self._mobile_cap_check()

    async def _mobile_cap_check(self) -> None:
        """R10: a caller from a mobile network is cut after the cap, warned a minute before."""
        if self._ami is None:
            return
        now = self._clock.now()
        present = {u: b for b, members in self._live.members.items() for u in members}
        for uid in list(self._first_seen):
            if uid not in present:
                del self._first_seen[uid]
                self._warned.discard(uid)
                self._cut.discard(uid)
        for uid, bridge in present.items():
            since = self._first_seen.setdefault(uid, now)
            if not self._is_mobile(self._live.callers.get(uid, "")) or uid in self._cut:
                continue
            channel = self._live.channels.get(uid, ("", False, 0))[0]
            try:
                if now >= since + self._mobile_cap:
                    self._cut.add(uid)
                    self._metrics.mobile_cuts.inc()
                    log.info("lifecycle.mobile_cut", bridge=bridge)
                    self._note_end(uid, EndReason.MOBILE_CAP)
                    await self._ami.action(
                        {"Action": "ConfbridgeKick", "Conference": bridge, "Channel": channel}
                    )
                elif now >= since + self._mobile_cap - self._mobile_warning and uid not in self._warned:
                    self._warned.add(uid)
                    log.info("lifecycle.mobile_warned", bridge=bridge)
                    # "press" the member's hidden menu key: ConfBridge runs the controller's
                    # menu route on that channel alone, which says the warning to that caller
                    for digit in names.MOBILE_WARNING_KEYS:
                        await self._ami.action(
                            {"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Receive": "true"}
                        )
            except AmiError:
                log.warning("lifecycle.mobile_action_failed", bridge=bridge)

    async def _check(self, bridge: str, number: str) -> None:
        watch = self._watch.setdefault(bridge, _Watch())
        if watch.ending:
            return
        reservation = await self._current(number)
        if reservation is None or reservation.ends_at is None:
            return  # anytime rooms run until their members leave
        now, end = self._clock.now(), reservation.ends_at
        if now >= end:
            if watch.decided_for == end:
                await self._terminate(bridge, watch)
            return
        if now < end - self._lead or watch.decided_for == end:
            return
        watch.decided_for = end
        until = end + self._period
        if await self._extend(reservation.id, until):
            self._metrics.extensions.labels(result="granted").inc()
            log.info("lifecycle.extended", conference=number, until=until.isoformat())
            return
        self._metrics.extensions.labels(result="denied").inc()
        log.info("lifecycle.warned", conference=number, end=end.isoformat())
        await self._play(bridge, ["dialconf/warning_tone"], "warning_tone")

    async def _terminate(self, bridge: str, watch: _Watch) -> None:
        watch.ending = True
        self._metrics.terminations.inc()
        log.info("lifecycle.terminated", bridge=bridge)
        language = self._language(bridge)
        self._note_end(bridge, EndReason.ENDED)
        with contextlib.suppress(AmiError):
            await self._announcer.play_and_wait(
                bridge,
                ["dialconf/conference_over", "dialconf/goodbye"],
                language,
                "conference_over",
                timeout=20,
            )
        try:
            await self._announcer.kick_all(bridge)
        except AmiError:
            watch.ending = False  # try again next tick
            log.warning("lifecycle.kick_failed", bridge=bridge)

    async def _play(self, bridge: str, sounds: list[str], kind: str) -> None:
        try:
            await self._announcer.play(bridge, sounds, self._language(bridge), kind)
        except AmiError:
            log.warning("lifecycle.play_failed", bridge=bridge, kind=kind)

    def _language(self, bridge: str) -> str:
        """The conference speaks the language of its first member we know (moderator first)."""
        members = [self._roster.get(u) for u in self._live.members.get(bridge, ())]
        known = sorted((m for m in members if m is not None), key=lambda m: not m.moderator)
        return known[0].language if known else "en"
