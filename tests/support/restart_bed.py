"""A bed for kill -9 tests in compressed time: one real Asterisk, the controller as a child
process (``ControllerProcess``) that is killed and started again, and this test's own AMI
connection, store and clock. The child and the test read one ``EpochScaledClock`` (the same
epoch and speed, passed in the settings), so the clock survives the restart as time would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from booking.domain.clock import EpochScaledClock
from booking.domain.model import Reservation
from booking.store.migrate import upgrade
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeEnd, ConfbridgeJoin
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.errors import AmiError
from conference_ivr.pbx import names
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.settings import ClockSettings, Settings
from tests.support.caller import LocalCaller
from tests.support.controller_process import ControllerProcess
from tests.support.events import EventLog, Predicate
from tests.support.poll import until
from tests.support.system import isolated_settings, running_asterisk


@dataclass(repr=False)  # its event stamps would fill every failing assertion's report
class Bed:
    asterisk: AsteriskProcess
    services: Services
    clock: EpochScaledClock
    ami: AmiClient
    events: EventLog
    controller: ControllerProcess
    arrived: dict[int, datetime] = field(default_factory=dict)  # id(event) -> clock time it came

    def __repr__(self) -> str:
        return f"Bed(controller started {self.controller.starts} times, {len(self.events.events)} events)"

    def stamp(self, event: AmiEvent) -> None:
        # when an event came, not when a test got round to waiting for it
        self.arrived[id(event)] = self.clock.now()

    def caller(self, number: str, record: str = "") -> LocalCaller:
        return LocalCaller(self.ami, self.events, "8000", number, record=record)

    def book(self, start_in: timedelta, minutes: int, seats: int) -> Reservation:
        """A reservation from ``start_in`` (negative: already running) on the bed's clock."""
        return self.services.booking.book(self.clock.now() + start_in, minutes, seats=seats)

    def real_until(self, at: datetime) -> float:
        return max(0.0, self.clock.real_seconds(at - self.clock.now()))

    async def until_clock(self, at: datetime) -> None:
        await until(lambda: self.clock.now() >= at, self.real_until(at) + 5, f"the clock at {at}")

    async def kill_and_restart(
        self, up_before: datetime | None = None, restart_at: datetime | None = None
    ) -> datetime:
        """SIGKILL the controller, start it again (at ``restart_at``, else at once); the clock
        time it was back. ``up_before``: check it was back by then, else the case would test
        another moment (a start takes 1.5-4 real seconds on two busy cores)."""
        await self.controller.kill()
        if restart_at is not None:
            await self.until_clock(restart_at)
        await self.controller.start()
        up = self.clock.now()
        if up_before is not None:
            assert up < up_before, f"harness: the controller came back at {up}, after {up_before}"
        return up

    async def join(self, conf: Reservation, *members: LocalCaller) -> None:
        """The members dial in side by side (a journey takes ~10 real s); back once all are in."""
        await asyncio.gather(*(m.join(conf.room.conference_number, conf.room.pin) for m in members))
        for m in members:
            await self.seen(of(ConfbridgeJoin, m), 15, f"{m.caller_id} in")

    async def seen(self, pred: Predicate, timeout: float, what: str) -> datetime:
        """The clock time the first event matching ``pred`` came, waiting for it until a
        deadline; failing, with the controller's last words."""
        try:
            found = await self.events.wait_for(pred, timeout)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}\ncontroller log:\n{self.controller.log_tail()}") from None
        return self.arrived.get(id(found[0]), self.clock.now())

    def count(self, pred: Predicate) -> int:
        return len(self.events.matching(pred))

    def index(self, pred: Predicate) -> int:
        """Where the first matching event is in arrival order (to assert what came first)."""
        return next(i for i, e in enumerate(self.events.events) if pred(e))

    async def members_in(self, bridge: str) -> set[str]:
        """Who Asterisk says is in ``bridge`` (announcers aside), asked over AMI."""
        try:
            listed = await self.ami.action({"Action": "ConfbridgeList", "Conference": bridge})
        except AmiError:
            return set()  # no such conference (any more)
        return {
            m.get("Uniqueid", "")
            for m in listed
            if m.get("Event") == "ConfbridgeList" and not names.is_announcer_channel(m.get("Channel", ""))
        }


@asynccontextmanager
async def restart_bed(tmp: Path, speed: float, start: bool = True, **controller: Any) -> AsyncIterator[Bed]:
    """The bed, the controller up (unless not ``start``); ``controller``: its settings (compressed
    minutes, tick). The clock's epoch is now: clock time starts as real time, then runs ahead."""
    base = isolated_settings(tmp, name="rst")
    epoch = datetime.now(UTC)
    settings: Settings = base.model_copy(
        update={
            "controller": base.controller.model_copy(update=controller),
            # room for a 5-seat conference, and for one 10-seat booking to take it all after it
            "booking": base.booking.model_copy(update={"system_capacity": 10}),
            "clock": ClockSettings(speed=speed, epoch=epoch),
        }
    )
    upgrade(settings.database_url)
    clock = EpochScaledClock(epoch, speed)  # the very clock the child builds from settings.clock
    services = build_services(settings, clock=clock)
    async with running_asterisk(settings) as asterisk:
        a = settings.asterisk
        ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, asterisk.instance.ami_secret())
        events = EventLog()
        process = ControllerProcess(settings)
        bed = Bed(asterisk, services, clock, ami, events, process)
        ami.on_event(bed.stamp)
        ami.on_event(events.add)
        try:
            await ami.connect(wait_s=10)
            if start:
                await process.start()
            yield bed
        finally:
            await process.stop()
            await ami.close()
            services.close()


def of(kind: type[AmiEvent], c: LocalCaller) -> Predicate:
    """An event of this kind about this caller's channel."""
    return lambda e: isinstance(e, kind) and e.get("Uniqueid") == c.uniqueid


def play(bridge: str, sound: str) -> Predicate:
    """The play context's event: ``dialconf/<sound>`` starts into ``bridge``."""

    def started(e: AmiEvent) -> bool:
        is_play = e.get("UserEvent") == "DialconfPlay" and e.get("Bridge") == bridge
        return is_play and f"dialconf/{sound}" in e.get("Sound")

    return started


def ended(bridge: str) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge
