"""The cluster benchmark (issue 21): the join storm through Kamailio into 2 media nodes against
the same storm into one node, and the CPU a relayed member costs against a local one.

One run, one cluster (tests/support/cluster.py: PostgreSQL, 2 Asterisk nodes each with its
controller as a `dialconf serve` child, Kamailio in front):

1. **single**: the storm (bench/storm_callers.py: ``--calls`` SIPp callers within ``--seconds``
   into ``--conferences`` rooms, the storm benchmark's journey) sent straight to node 1: every
   caller answered and mixed there.
2. **cluster**: the same storm into as many fresh rooms, through Kamailio (round robin over
   both nodes): a caller answered on the node not mixing its conference is relayed.
3. **CPU** (bench/cluster_cpu.py): ``--members`` callers relayed from one node into a conference
   mixed on the other, both nodes' Asterisk CPU over ``--window`` s; then as many local ones.

The SIPp processes start staggered, so with an even number of conferences Kamailio's round robin
would send every call of one conference to one node: the default is odd.

Answer-to-joined per caller from every node's AMI (bench/cluster_trace.py). Everything is
bounded: SIPp's own timeouts and kills by process group, the cluster stopped by its fixture.
``python -m bench.cluster_bench --help``; results bench/results/<name>-<date>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cluster_cpu import SERVICE, asterisk_cpu, callers, cpu_phase, hang_up_all, target
from bench.cluster_report import headline, markdown, verdict
from bench.cluster_trace import NodeTracer, follow, summarise
from bench.machine import loadavg
from bench.publish import publish, run_facts
from bench.storm_callers import Conference, journey, run_storm
from bench.storm_report import versions
from bench.storm_system import Room
from booking.settings import BookingSettings
from conference_ivr.settings import Settings
from tests.support.cluster import Cluster, running_cluster

ROOT = Path(__file__).resolve().parent
Log = Callable[[str], None]


def _wide(calls: int) -> Callable[[Settings], Settings]:
    """RTP for every call and relayed leg of a storm (split between the nodes), seats for
    every room booked (the storm benchmark's band, away from the tests' bands)."""

    def adjust(s: Settings) -> Settings:
        start = 40000 + (time.time_ns() // 1000 % 10) * 2100
        ports = max(2000, calls * 8)
        asterisk = s.asterisk.model_copy(update={"rtp_start": start, "rtp_end": start + ports})
        return s.model_copy(update={"asterisk": asterisk, "booking": BookingSettings(system_capacity=2000)})

    return adjust


def _book(cluster: Cluster, count: int, seats: int, tag: str) -> list[Room]:
    rooms = []
    for i in range(count):
        r = cluster.services.booking.book(None, None, seats, profile=f"cluster-bench-{tag}-{i}")
        rooms.append(Room(r.room.conference_number, r.room.pin))
    return rooms


async def _drain(cluster: Cluster, tracers: list[NodeTracer], timeout_s: float) -> int:
    """Wait until no node has a PJSIP channel up; hang up what is left after ``timeout_s``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(t.idle.wait() for t in tracers)), timeout_s)
    left = sum(len(t.up) for t in tracers)
    if left:
        await hang_up_all(cluster)
        await asyncio.sleep(1)
    return left


async def storm(
    name: str, rooms: list[Room], target: str, proxied: bool, prefix: str,
    args: argparse.Namespace, cluster: Cluster, tracers: list[NodeTracer], workdir: Path, log: Log,
) -> dict[str, Any]:  # fmt: skip
    per_conference = args.calls // len(rooms)
    rate = per_conference / args.seconds
    confs = [
        Conference(
            f"{name}-{i:02d}", SERVICE, f"{prefix}{i:02d}", journey(r.number, r.pin, args.hold), proxied
        )
        for i, r in enumerate(rooms)
    ]
    cpu0, began = asterisk_cpu(cluster), time.monotonic()
    sipp_timeout = args.seconds + confs[0].journey.scripted_s() + args.hold + 30
    runs = await run_storm(confs, workdir / name, target, rate, per_conference, sipp_timeout)
    left = await _drain(cluster, tracers, 15)
    wall, cpu1 = time.monotonic() - began, asterisk_cpu(cluster)
    out: dict[str, Any] = {
        "storm": name,
        "target": "Kamailio" if proxied else "node 1",
        "conferences": len(rooms),
        "calls_per_conference": per_conference,
        **summarise(follow(tracers, callers(tracers, prefix)), per_conference * len(rooms)),
        "sipp": {
            "successful": sum(r.successful for r in runs),
            "failed": sum(r.failed for r in runs),
            "errors": [f"{r.tag}: {r.errors}" for r in runs if r.failed or r.returncode][:3],
        },
        "hung_up_by_bench": left,
        "wall_s": round(wall, 1),
        "asterisk_cpu_s": {k: round(cpu1[k] - cpu0[k], 2) for k in cpu0},
        "load_after": loadavg(),
    }
    a2j = out["answer_to_joined_s"]
    log(
        f"  {name}: {out['joined']}/{out['expected']} joined ({out['relayed']} relayed), failed "
        f"{out['failed']}; answer-to-joined p50 {a2j.get('p50')} p99 {a2j.get('p99')} s; "
        f"Asterisk CPU {out['asterisk_cpu_s']} over {wall:.0f} s"
    )
    return out


async def run(args: argparse.Namespace, tmp: Path, log: Log) -> dict[str, Any]:
    started = time.monotonic()
    async with running_cluster(tmp, 2, adjust=_wide(args.calls)) as cluster:
        log(f"cluster up in {time.monotonic() - started:.1f} s: {[n.name for n in cluster.nodes]}")
        tracers = [NodeTracer(n.name) for n in cluster.nodes]
        for node, tracer in zip(cluster.nodes, tracers, strict=True):
            node.ami.on_event(tracer)
        seats = min(30, max(args.calls // args.conferences, args.members + 1) + 5)
        single_rooms, cluster_rooms = (
            _book(cluster, args.conferences, seats, t) for t in ("single", "cluster")
        )
        cpu_booked = cluster.services.booking.book(None, None, seats, profile="cluster-bench-cpu")
        cpu_room = Room(cpu_booked.room.conference_number, cpu_booked.room.pin)
        version = (await asyncio.to_thread(cluster.nodes[0].asterisk.rx, "core show version")).stdout.strip()
        single = await storm(
            "single",
            single_rooms,
            target(cluster.nodes[0]),
            False,
            "+4202410",
            args,
            cluster,
            tracers,
            tmp,
            log,
        )
        await asyncio.sleep(args.pause)
        both = await storm(
            "cluster", cluster_rooms, cluster.front, True, "+4202420", args, cluster, tracers, tmp, log
        )
        await asyncio.sleep(args.pause)
        cpu = await cpu_phase(cpu_room, cpu_booked.id, args, cluster, tracers, tmp)
        log(f"  cpu: host {cpu['host']}, relayer {cpu['relayer']}: ms per member per s {cpu['ms_per_s']}")
    return {"storms": [single, both], "cpu": cpu, "asterisk_version": version}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=60, help="callers per storm")
    ap.add_argument("--seconds", type=float, default=10.0, help="the callers arrive within this")
    ap.add_argument(
        "--conferences",
        type=int,
        default=5,
        help="conferences per storm (one SIPp each); odd, or Kamailio's round robin over 2 nodes "
        "sends every call of one SIPp to the same node and nobody is relayed",
    )
    ap.add_argument("--hold", type=float, default=1.0, help="seconds a storm caller holds after its last key")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between the phases")
    ap.add_argument("--members", type=int, default=20, help="members held in each CPU window")
    ap.add_argument("--window", type=float, default=8.0, help="seconds of each CPU window")
    ap.add_argument("--idle", type=float, default=3.0, help="seconds of the idle CPU window")
    ap.add_argument("--workdir", type=Path, help="keep the SIPp files and the nodes' logs here")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--name", default="cluster", help="results file name prefix")
    args = ap.parse_args(argv)
    load_before, began = loadavg(), time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measured = asyncio.run(run(args, args.workdir.resolve(), log))
    else:
        with tempfile.TemporaryDirectory(prefix="dialconf-cluster-bench-") as tmpdir:
            measured = asyncio.run(run(args, Path(tmpdir), log))
    lines, ok = verdict(measured["storms"], measured["cpu"])
    report = {
        **run_facts("bench.cluster_bench", argv, args, began, load_before),
        "versions": {**versions(), "asterisk": measured["asterisk_version"]},
        **{k: v for k, v in measured.items() if k != "asterisk_version"},
        "verdict": lines,
    }
    publish(args.out, args.name, report, markdown, log, headline)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
