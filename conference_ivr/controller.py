"""The controller process: FastAGI server, AMI client and metrics endpoint, started together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

import structlog

from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.dialout import DialOut
from conference_ivr.conference.lecture import LectureMode
from conference_ivr.conference.lifecycle import ConferenceLifecycle
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.usage_recorder import UsageRecorder
from conference_ivr.conference.web_port import LivePagePort, OperationsPort
from conference_ivr.http_endpoint import MetricsEndpoint
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.metrics import Metrics
from conference_ivr.settings import ControllerSettings

log = structlog.get_logger(__name__)


@dataclass
class Controller:
    settings: ControllerSettings
    agi: FastAgiServer
    ami: AmiClient
    live: LiveConferences
    metrics: Metrics
    lifecycle: ConferenceLifecycle | None = None
    recorder: UsageRecorder | None = None
    dialout: DialOut | None = None
    control: LiveControl | None = None
    lecture: LectureMode | None = None
    # The web pages' port to it (booking.web.ports): the live page and the dashboard.
    live_page: LivePagePort | None = None
    operations: OperationsPort | None = None
    directory: ThreadedDirectory | None = None  # the IVR's lookup threads, ended at close
    endpoint: MetricsEndpoint = field(init=False)
    agi_port: int = 0
    metrics_port: int = 0
    _jobs: dict[str, Callable[[], Coroutine[None, None, None]]] = field(default_factory=dict, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _ami_logins: int = field(default=0, init=False)
    _started: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.endpoint = MetricsEndpoint(self.metrics.registry, self.health)
        # Read when scraped, so they are never stale between scrapes or health probes.
        self.metrics.ami_up.set_function(lambda: 1.0 if self.ami.ready else 0.0)
        self.metrics.agi_sessions.set_function(lambda: float(self.agi.active_sessions))
        self.ami.on_resync(self._ami_logged_in)

    async def _ami_logged_in(self) -> None:
        # Asterisk sends FullyBooted once per login, so every resync after the first is a reconnect.
        if self._ami_logins:
            self.metrics.ami_reconnects.inc()
        self._ami_logins += 1

    def run_beside(self, name: str, job: Callable[[], Coroutine[None, None, None]]) -> None:
        """A background job that lives as long as the controller (once per name), e.g. the
        booking gauges the operations dashboard wires in; started now if the controller runs."""
        if name in self._jobs:
            return
        self._jobs[name] = job
        if self._started:
            self._tasks.append(asyncio.create_task(job()))

    async def start(self) -> None:
        s = self.settings
        self.agi_port = await self.agi.start(s.bind_address, s.agi_port)
        self.metrics_port = await self.endpoint.start(s.bind_address, s.metrics_port)
        await self.ami.connect()
        if self.lifecycle is not None:
            self.lifecycle.start()
        self._started = True
        self._tasks.extend(asyncio.create_task(job()) for job in self._jobs.values())
        if self.dialout is not None:
            await self.dialout.start()
        log.info("controller.started", agi_port=self.agi_port, metrics_port=self.metrics_port)

    async def close(self) -> None:
        if self.control is not None:
            self.control.close()  # live pages' streams end
        self._started = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.lifecycle is not None:
            await self.lifecycle.close()
        if self.dialout is not None:
            await self.dialout.close()
        await self.agi.close()
        if self.directory is not None:
            self.directory.close()
        await self.ami.close()
        await self.endpoint.close()
        log.info("controller.stopped")

    def health(self) -> dict[str, object]:
        return {"ami": self.ami.ready, "agi_sessions": self.agi.active_sessions}
