"""The cluster benchmark's CPU phase (issue 21): what a relayed member costs against a local one,
and the handles on the cluster's nodes the benchmark shares (targets, CPU, hanging up).

An idle window on both nodes first; then an anchor caller opens one conference, mixed on the
node the store's placement chooses (the host, read from its lease). ``--members`` callers sent
straight to the other node are all relayed to the host; once they are in, each node's Asterisk
CPU is read over ``--window`` s and they are hung up. The anchor keeps the conference on the
host while as many callers sent straight to the host join it locally, over the same window.
The relaying node then carried only relayed legs, the host only members (the anchor too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.cluster_trace import NodeTracer, follow, ms_per_member_s
from bench.machine import process_cpu_seconds
from bench.storm_callers import Conference, journey, run_storm
from bench.storm_system import Room
from tests.support.cluster import Cluster, ClusterNode

SERVICE = "8000"
ANCHOR, RELAYED, LOCAL = "+42024390", "+42024391", "+42024392"  # caller number prefixes


def target(node: ClusterNode) -> str:
    a = node.settings.asterisk
    return f"{a.sip_bind_address}:{a.sip_port}"


def asterisk_cpu(cluster: Cluster) -> dict[str, float]:
    out = {}
    for n in cluster.nodes:
        pid = n.asterisk.pid()
        out[n.name] = process_cpu_seconds(pid) if pid is not None else 0.0
    return out


async def hang_up_all(cluster: Cluster) -> None:
    for n in cluster.nodes:
        await asyncio.to_thread(n.asterisk.rx, "channel request hangup all")


def callers(tracers: list[NodeTracer], prefix: str) -> set[str]:
    return {c for t in tracers for c in t.answers if c.startswith(prefix)}


def _joined(tracers: list[NodeTracer], prefix: str) -> int:
    return sum(1 for t in tracers for c in t.joins if c.startswith(prefix))


async def until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.2)


async def _window(cluster: Cluster, seconds: float) -> dict[str, float]:
    cpu0 = asterisk_cpu(cluster)
    await asyncio.sleep(seconds)
    cpu1 = asterisk_cpu(cluster)
    return {k: round(cpu1[k] - cpu0[k], 3) for k in cpu0}


def _host(cluster: Cluster, reservation_id: int) -> str | None:
    """The node the store says mixes the reservation's conference (None before its placement)."""
    with cluster.services.uow.engine.connect() as conn:
        node = conn.execute(
            text("SELECT node FROM conference_leases WHERE reservation_id = :r"), {"r": reservation_id}
        ).scalar()
    return node if node in {n.name for n in cluster.nodes} else None


async def _held(
    name: str, room: Room, node: ClusterNode, prefix: str, args: argparse.Namespace,
    cluster: Cluster, tracers: list[NodeTracer], workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    """``--members`` callers sent straight to ``node``, all joined, one CPU window, hung up."""
    members = int(args.members)
    spread = max(1.0, members / 10)
    hold = args.window + spread + 20  # an upper bound: they are hung up after the window
    conf = Conference(name, SERVICE, prefix, journey(room.number, room.pin, hold))
    timeout = spread + conf.journey.scripted_s() + hold + 30
    calls = asyncio.create_task(
        run_storm([conf], workdir / name, target(node), members / spread, members, timeout)
    )
    try:
        await until(lambda: _joined(tracers, prefix) >= members, spread + 40, f"{name}: {members} joined")
        await until(lambda: _joined(tracers, ANCHOR), 20, "the anchor joined")
        cpu = await _window(cluster, args.window)
    finally:
        # SIPp ends its call on the BYE it did not expect; the relayed leg goes with its caller.
        for t in tracers:
            for caller, at in list(t.answers.items()):
                if caller.startswith(prefix):
                    await asyncio.to_thread(
                        cluster.node(t.node).asterisk.rx, f"channel request hangup {at.channel}"
                    )
        with contextlib.suppress(TimeoutError):  # cancelled: its SIPp killed by process group
            await asyncio.wait_for(calls, 30)
    followed = follow(tracers, callers(tracers, prefix))
    return {
        "cpu_s": cpu,
        "joined": sum(1 for f in followed if f.joined_on),
        "relayed": sum(f.relayed for f in followed),
    }


async def cpu_phase(
    room: Room, reservation_id: int, args: argparse.Namespace, cluster: Cluster, tracers: list[NodeTracer],
    workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    idle = await _window(cluster, args.idle)
    bound = 4 * args.window + 200  # the anchor is hung up at the end
    anchor = Conference("anchor", SERVICE, ANCHOR, journey(room.number, room.pin, bound))
    anchor_call = asyncio.create_task(
        run_storm([anchor], workdir / "anchor", target(cluster.nodes[0]), 1, 1, bound)
    )
    try:
        # Placed at its PIN: the relayed callers can start before the anchor has joined.
        await until(lambda: _host(cluster, reservation_id), 40, "the anchor's conference placed")
        host = cluster.node(_host(cluster, reservation_id) or "")
        relayer = next(n for n in cluster.nodes if n is not host)
        relayed = await _held("relayed", room, relayer, RELAYED, args, cluster, tracers, workdir)
        up = {t.node: t for t in tracers}
        await until(
            lambda: not up[relayer.name].up and len(up[host.name].up) <= 1, 30, "relayed callers gone"
        )
        local = await _held("local", room, host, LOCAL, args, cluster, tracers, workdir)
    finally:
        await hang_up_all(cluster)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(anchor_call, 30)
    n, w, iw, h, r = int(args.members), args.window, args.idle, host.name, relayer.name
    return {
        "host": h,
        "relayer": r,
        "members": n,
        "window_s": w,
        "idle_window_s": iw,
        "idle_cpu_s": idle,
        "relayed": relayed,
        "local": local,
        # the host mixes the anchor too: n + 1 members in both windows
        "ms_per_s": {
            "local_member_on_host": ms_per_member_s(local["cpu_s"][h], idle[h], w, iw, n + 1),
            "relayed_member_on_host": ms_per_member_s(relayed["cpu_s"][h], idle[h], w, iw, n + 1),
            "relayed_leg_on_relayer": ms_per_member_s(relayed["cpu_s"][r], idle[r], w, iw, n),
        },
    }
