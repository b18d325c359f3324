"""AMI health on /metrics against a fake AMI over a real socket: up, down, reconnects."""

from __future__ import annotations

import httpx

from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.live import LiveConferences
from conference_ivr.controller import Controller
from conference_ivr.metrics import Metrics
from conference_ivr.settings import ControllerSettings
from tests.support.fake_ami import FakeAmi
from tests.support.poll import until


async def test_ami_up_follows_the_connection_and_reconnects_are_counted() -> None:
    fake = FakeAmi()
    await fake.start()
    metrics = Metrics()
    ami = AmiClient("127.0.0.1", fake.port, "dialconf", "secret", reconnect_s=1)
    live = LiveConferences(ami, metrics)
    settings = ControllerSettings(agi_port=0, metrics_port=0)
    controller = Controller(settings, FastAgiServer(), ami, live, metrics)
    sample = metrics.registry.get_sample_value
    jobs: list[str] = []

    async def job() -> None:
        jobs.append("ran")

    controller.run_beside("job", job)
    controller.run_beside("job", job)  # once per name
    await controller.start()
    try:
        await ami.wait_ready(5)
        await until(lambda: jobs, what="the job beside the controller")
        url = f"http://127.0.0.1:{controller.metrics_port}/metrics"
        async with httpx.AsyncClient() as http:
            assert "dialconf_ami_up 1.0" in (await http.get(url)).text
        assert sample("dialconf_ami_reconnects_total") == 0  # the first login is no reconnect

        fake.drop()  # like an Asterisk restart
        await until(lambda: sample("dialconf_ami_up") == 0, what="AMI down on /metrics")
        await until(lambda: sample("dialconf_ami_reconnects_total") == 1, what="one reconnect")
        assert sample("dialconf_ami_up") == 1
        fake.drop()
        await until(lambda: sample("dialconf_ami_reconnects_total") == 2, what="a second reconnect")
        assert jobs == ["ran"]
    finally:
        await controller.close()
        await fake.close()
