"""`dialconf cluster up --nodes 2` as the README starts it: its own PostgreSQL, two nodes and
Kamailio; the banner names the front and a demo room, a SIPp call through Kamailio joins it,
both nodes see each other alive, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

import httpx

from conference_ivr.cluster.topology import settings_environment
from tests.support.poll import until_async
from tests.support.ports import free_ports
from tests.support.sipp import run_sipp, scenario
from tests.support.system import isolated_settings


async def _banner(stdout: asyncio.StreamReader, timeout: float = 150) -> str:
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while not lines or not lines[-1].startswith("Operator token"):
            line = await stdout.readline()
            assert line, "dialconf cluster up exited before its banner:\n" + "".join(lines)
            lines.append(line.decode())
    return "".join(lines)


async def test_cluster_up_starts_two_nodes_behind_kamailio_and_a_call_joins(tmp_path: Path) -> None:
    # its own PostgreSQL lives in the data directory, which the postgres user must reach
    data = Path(tempfile.mkdtemp(prefix="dialconf-up-"))
    data.chmod(0o711)
    try:
        await _cluster_up(tmp_path, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def _cluster_up(tmp_path: Path, data: Path) -> None:
    base = isolated_settings(data, name="up")
    (front, pg) = free_ports(1, socket.SOCK_DGRAM) + free_ports(1)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    network = f"127.{60 + worker}.{os.getpid() % 250 + 1}."
    cluster = base.cluster.model_copy(
        update={
            "network": network,
            "postgres_port": pg,
            "kamailio": base.cluster.kamailio.model_copy(update={"port": front, "ping_interval_s": 1}),
        }
    )
    settings = base.model_copy(update={"cluster": cluster})
    env = {**os.environ, **settings_environment(settings), "DIALCONF_MESSAGING__SMS": "false"}
    env["DIALCONF_MESSAGING"] = env["DIALCONF_MESSAGING"].replace('"intake": true', '"intake": false')
    with (tmp_path / "cluster-up.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "conference_ivr", "cluster", "up", "--nodes", "2",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=log, start_new_session=True,
        )  # fmt: skip
    try:
        banner = await _banner(proc.stdout)  # type: ignore[arg-type]
        assert f"Call in: sip:8000@127.0.0.1:{front}" in banner, banner
        assert f"node1 {network}1:" in banner and f"node2 {network}2:" in banner, banner
        number = re.search(r"conference number: (\d+)", banner)
        pin = re.search(r"\bPIN: (\d+)", banner)
        assert number and pin, banner
        async with httpx.AsyncClient(timeout=5) as http:
            for step in (0, 100):  # each node's /metrics: both nodes alive, as the store says
                url = f"http://127.0.0.1:{base.controller.metrics_port + step}/metrics"

                async def both_alive(url: str = url) -> bool:
                    text = (await http.get(url)).text
                    return all(f'dialconf_node_alive{{node="node{i}"}} 1.0' in text for i in (1, 2))

                await until_async(both_alive, 15, f"both nodes alive at {url}")

        sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
        steps = [(2.5, "1"), (1.0, f"{number.group(1)}#{pin.group(1)}#"), (4.0, "#")]
        xml = scenario(steps, tmp_path, hold_s=6, caller="+420604000021", proxied=True)
        result = await run_sipp(xml, tmp_path, "8000", f"127.0.0.1:{front}", sip_port, media_port)
        assert result.returncode == 0, result.output[-2000:]
        logs = "".join(Path(data, f"node{i}.log").read_text() for i in (1, 2))
        assert '"event": "ivr.join"' in logs
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
    assert code == 0
