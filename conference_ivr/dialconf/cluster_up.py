"""`dialconf cluster up --nodes N`: the whole cluster on one machine, for development and tests
(issue 21): one PostgreSQL (our own, unless the settings name one), N Asterisk nodes, each with
its controller and booking API in a process of its own, and Kamailio in front of them.

Every part is started in order and stopped in reverse on Ctrl-C (or when one node's process
exits: the cluster is then not what was printed). A node's process can be killed by hand to
watch the others take its conferences over.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from booking.store.migrate import upgrade
from conference_ivr.bind import connect_host
from conference_ivr.cluster.kamailio import Kamailio
from conference_ivr.cluster.postgres import running_postgres
from conference_ivr.cluster.topology import node_settings, settings_environment
from conference_ivr.dialconf.services import build_services
from conference_ivr.errors import DialconfError
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import provision
from conference_ivr.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Node:
    settings: Settings
    asterisk: AsteriskProcess
    log_file: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.settings.cluster.node

    def start(self) -> None:
        self.asterisk.start()
        env = {**os.environ, **settings_environment(self.settings)}
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "conference_ivr", "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_up(self, timeout: float) -> None:
        """Until the node's controller says (/healthz) it is logged in to its Asterisk."""
        c = self.settings.controller
        url = f"http://{connect_host(c.bind_address)}:{c.metrics_port}/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise DialconfError(f"{self.name}'s controller exited; see {self.log_file}")
            with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(url, timeout=1) as answer:
                if json.load(answer).get("ami"):
                    return
            time.sleep(0.2)
        raise DialconfError(f"{self.name} not up after {timeout:g} s; see {self.log_file}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self.asterisk.stop()


@contextlib.contextmanager
def _database(base: Settings) -> Iterator[str]:
    """The cluster's one store: the configured PostgreSQL, else our own under the data dir."""
    if base.database_url.startswith("postgresql"):
        yield base.database_url
        return
    with running_postgres(base.data_dir / "cluster" / "postgres", base.cluster.postgres_port) as pg:
        yield pg.url


def up(base: Settings, count: int) -> int:
    install = provision(base.asterisk)
    from conference_ivr.ivr.sounds import install_sounds

    install_sounds(install)
    secret = base.cluster.secret_file or base.data_dir / "cluster.secret"
    with _database(base) as url:
        upgrade(url)
        nodes = [
            Node(s, AsteriskProcess(AsteriskInstance(install, s)), s.data_dir / f"{s.cluster.node}.log")
            for s in node_settings(base, count, url, secret, base.cluster.network)
        ]
        front = Kamailio(base.cluster.kamailio)
        started: list[Node] = []
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            for node in nodes:
                node.start()
                started.append(node)
            for node in nodes:
                node.wait_up(60)
            front.render([f"sip:{n.settings.cluster.nodes[n.name]}" for n in nodes], _front_dir(base))
            front.start()
            print(banner(nodes, base, url) + _demo(nodes[0].settings), flush=True)
            while not stop and all(n.proc is not None and n.proc.poll() is None for n in started):
                time.sleep(0.5)
        finally:
            front.stop()
            for node in reversed(started):
                node.stop()
    return 0


def _demo(settings: Settings) -> str:
    from conference_ivr.dialconf.runner import demo_room, token_source

    services = build_services(settings)
    try:
        room = demo_room(services.booking, settings).replace("\n", "\n  ")
    finally:
        services.close()
    return f"Demo room:\n  {room}\nOperator token: {token_source(settings)}\n"


def _front_dir(base: Settings) -> Path:
    """Kamailio's runtime directory: short (its sockets' paths have at most 107 bytes)."""
    path = (base.data_dir / "cluster" / "kamailio").resolve()
    if len(str(path)) > 80:
        path = Path(tempfile.mkdtemp(prefix="dialconf-kam-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def banner(nodes: list[Node], base: Settings, database_url: str) -> str:
    k = base.cluster.kamailio
    number = next(iter(base.access_numbers))
    first = nodes[0].settings
    lines = [
        "",
        f"dialconf cluster: {len(nodes)} media nodes behind Kamailio. Ctrl-C stops everything.",
        "",
        "   callers (SIP/UDP)",
        "        |",
        f"   Kamailio {k.bind_address}:{k.port}  (dispatcher: round robin, OPTIONS probing, failover)",
        "        |" + "".join("-" * 18 for _ in nodes[1:]),
    ]
    lines.append("   " + "".join(f"{n.name + ' ' + n.settings.cluster.nodes[n.name]:<22}" for n in nodes))
    lines.append(
        "   "
        + "".join(
            f"{'AMI ' + str(n.settings.asterisk.ami_port) + ' API ' + str(n.settings.api.port):<22}"
            for n in nodes
        )
    )
    lines += [
        "        \\____ relayed calls: node to node over PJSIP (one codec), a lease per conference",
        f"   store: {database_url.rsplit('@', maxsplit=1)[-1]} (PostgreSQL, shared)",
        "",
        f"Call in: sip:{number}@{k.bind_address}:{k.port}",
        f"Pages (any node's API; node1's): http://{first.api.bind_address}:{first.api.port}/panel, "
        f"/dashboard, /join",
        f"Logs: {', '.join(str(n.log_file) for n in nodes)}",
        "",
    ]
    return "\n".join(lines)
