"""The controller process: FastAGI server, AMI client and metrics endpoint, started together."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.http_endpoint import MetricsEndpoint
from conference_ivr.lifecycle import ConferenceLifecycle
from conference_ivr.live import LiveConferences
from conference_ivr.metrics import Metrics
from conference_ivr.settings import ControllerSettings
from conference_ivr.usage_recorder import UsageRecorder

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
    endpoint: MetricsEndpoint = field(init=False)
    agi_port: int = 0
    metrics_port: int = 0

    def __post_init__(self) -> None:
        self.endpoint = MetricsEndpoint(self.metrics.registry, self.health)

    async def start(self) -> None:
        s = self.settings
        self.agi_port = await self.agi.start(s.bind_address, s.agi_port)
        self.metrics_port = await self.endpoint.start(s.bind_address, s.metrics_port)
        await self.ami.connect()
        if self.lifecycle is not None:
            self.lifecycle.start()
        log.info("controller.started", agi_port=self.agi_port, metrics_port=self.metrics_port)

    async def close(self) -> None:
        if self.lifecycle is not None:
            await self.lifecycle.close()
        await self.agi.close()
        await self.ami.close()
        await self.endpoint.close()
        log.info("controller.stopped")

    def health(self) -> dict[str, object]:
        self.metrics.ami_up.set(1 if self.ami.ready else 0)
        self.metrics.agi_sessions.set(self.agi.active_sessions)
        return {"ami": self.ami.ready, "agi_sessions": self.agi.active_sessions}
