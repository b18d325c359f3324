"""Two (or more) media nodes behind Kamailio on one PostgreSQL, for the cluster tier (issue 21).

Each node is a real Asterisk on its own loopback address (127.<w>.<p>.<i>: this worker's and
this process's, so parallel runs never meet) with its controller as a child process
(`dialconf serve`, killable with -9), all on one throwaway PostgreSQL; Kamailio listens on
127.0.0.1 in front. The test has its own AMI connection to every node.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from booking.store.migrate import upgrade
from conference_ivr.ami.client import AmiClient
from conference_ivr.cluster.kamailio import Kamailio
from conference_ivr.cluster.postgres import Postgres, running_postgres
from conference_ivr.cluster.topology import node_settings, settings_environment
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.errors import AmiError
from conference_ivr.ivr.sounds import install_sounds
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import provision
from conference_ivr.settings import Settings
from tests.support.controller_process import ControllerProcess
from tests.support.events import EventLog
from tests.support.ports import free_ports
from tests.support.sip_front import address, running_front
from tests.support.system import isolated_settings

# Fast enough for a test to watch a node die and the others take over, slow enough for 2 cores.
# No node sends messages: these tests are about calls.
FAST_CLUSTER = {"lease_ttl_s": 3.0, "renew_s": 1.0, "node_dead_after_s": 3.0, "messaging": False}


@dataclass
class ClusterNode:
    settings: Settings
    asterisk: AsteriskProcess
    controller: ControllerProcess
    ami: AmiClient  # the test's own connection
    events: EventLog

    @property
    def name(self) -> str:
        return self.settings.cluster.node

    async def kill(self) -> None:
        """kill -9 of the whole node: its controller and its Asterisk, no goodbye."""
        proc = self.asterisk.proc
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            self.asterisk.proc = None
        await self.controller.kill()
        with contextlib.suppress(AmiError):
            await self.ami.close()


@dataclass
class Cluster:
    nodes: list[ClusterNode]
    kamailio: Kamailio
    postgres: Postgres
    services: Services  # the booking side, on the shared store (booking rooms in a test)

    @property
    def front(self) -> str:
        return address(self.kamailio)

    def node(self, name: str) -> ClusterNode:
        return next(n for n in self.nodes if n.name == name)


def _network() -> str:
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return f"127.{20 + worker}.{os.getpid() % 250 + 1}."


def _own_ports(s: Settings) -> Settings:
    ami, http, agi, metrics, api = free_ports(5)
    (sip,) = free_ports(1, socket.SOCK_DGRAM)
    return s.model_copy(
        update={
            "asterisk": s.asterisk.model_copy(update={"ami_port": ami, "http_port": http, "sip_port": sip}),
            "controller": s.controller.model_copy(update={"agi_port": agi, "metrics_port": metrics}),
            "api": s.api.model_copy(update={"port": api}),
        }
    )


def _cluster_settings(
    tmp: Path, count: int, url: str, adjust: Callable[[Settings], Settings] | None = None
) -> list[Settings]:
    base = isolated_settings(tmp, "c")
    base = base.model_copy(update={"cluster": base.cluster.model_copy(update=FAST_CLUSTER)})
    if adjust is not None:
        base = adjust(base)
    nodes = node_settings(base, count, url, tmp / "cluster.secret", _network())
    nodes = [_own_ports(n) for n in nodes]
    addresses = {n.cluster.node: f"{n.asterisk.sip_bind_address}:{n.asterisk.sip_port}" for n in nodes}
    return [
        n.model_copy(update={"cluster": n.cluster.model_copy(update={"nodes": addresses})}) for n in nodes
    ]


@asynccontextmanager
async def running_cluster(
    tmp: Path, count: int = 2, adjust: Callable[[Settings], Settings] | None = None
) -> AsyncIterator[Cluster]:
    """``adjust``: changes to the settings the nodes are derived from (the cluster benchmark's
    wider RTP band and seat capacity); the nodes' own ports and addresses come after it."""
    with running_postgres() as pg:
        upgrade(pg.url)
        settings = _cluster_settings(tmp, count, pg.url, adjust)
        install = provision(settings[0].asterisk)
        install_sounds(install)
        nodes: list[ClusterNode] = []
        try:
            for s in settings:
                asterisk = AsteriskProcess(AsteriskInstance(install, s))
                asterisk.start()
                controller = ControllerProcess(s, env=settings_environment(s))
                node = ClusterNode(s, asterisk, controller, _ami(s, asterisk), EventLog())
                nodes.append(node)
                node.ami.on_event(node.events.add)
                await node.ami.connect(wait_s=10)
                await controller.start()
            uris = [f"sip:{s.cluster.nodes[s.cluster.node]}" for s in settings]
            services = build_services(settings[0])
            try:
                # SIPp callers do not answer in-dialog OPTIONS: no keepalive within a test (the
                # front's own tests prove them: tests/cluster/test_kamailio_front.py)
                async with running_front(uris, tmp, ka_interval_s=600) as kamailio:
                    yield Cluster(nodes, kamailio, pg, services)
            finally:
                services.close()
        finally:
            for node in reversed(nodes):
                with contextlib.suppress(AmiError):
                    await node.ami.close()
                await node.controller.stop()
                node.asterisk.stop()
                if not os.environ.get("DIALCONF_KEEP_INSTANCES"):
                    shutil.rmtree(node.asterisk.instance.host(), ignore_errors=True)


def _ami(s: Settings, asterisk: AsteriskProcess) -> AmiClient:
    a = s.asterisk
    return AmiClient(a.ami_host, a.ami_port, a.ami_user, asterisk.instance.ami_secret())
