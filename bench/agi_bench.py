"""The AGI benchmark (issue 10, item 1): the controller's cost per IVR step and per join,
against the classic process-per-call AGI script, in the same run.

- The controller: bench/agi_server.py in its own process, the real composition
  (``build_controller``: DialInJourney, ThreadedDirectory, the live seat gate, metrics, logs at
  info) over a SQLite booking store (WAL, as ``make run``) with ``--rooms`` anytime rooms booked.
- The peer: bench/agi_peer.py in this process, a fake Asterisk on loopback. At each level, N
  callers place calls back to back (N = 1, 50, 200 in flight); every call is a full journey
  (greeting, 1, conference number, PIN, room check, "joining", ConfBridge variables) for a
  participant, rooms taken in turn. Read() and STREAM FILE replies are held for a media time
  (a real journey's ~20 s of prompts and keying compressed to ~2 s, so N calls here offer about
  ten times the join rate of N real callers); all else is answered at once.
- The baseline: bench/pyst2_baseline_script.py, started as a process per call, AGI over its
  stdin/stdout, same commands and replies, concurrency capped at ``--baseline-levels``. Two
  lookups: ``service`` (the booking service's own DialInService: what this project would run
  per call) and ``sqlite3`` (the standard library: the leanest per-call script).
- The floor: the same peer against the same FastAgiServer/AgiSession with a route that only
  sends the journey's commands, at ``--floor-levels``: what the measuring itself adds.

Per exchange: the time from the peer's reply to the next command (by command type, and after
the keyed conference number and PIN, the steps with a database lookup); the line's start (TCP
connect + headers, or process start: interpreter, imports, pyst2) and end; the time to join.
CPU per completed join: the controller process's CPU (getrusage, every thread) over a level /
joins; the baseline's: every script process's CPU (RUSAGE_CHILDREN, start-up included) / joins.

Results go to bench/results/agi-<date>.md and .json. Every level stops by itself (no call starts
after ``--seconds``; each call is cut at ``--call-timeout``). Run from the repository root:
``python -m bench.agi_bench --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.metadata
import itertools
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy

from bench.agi_peer import (
    Caller,
    Line,
    MediaTime,
    ProcessLine,
    TcpLine,
    agi_headers,
    level_summary,
    play_call,
    probe_process,
    run_level,
)
from bench.machine import children_cpu_seconds, git_revision, loadavg, machine
from bench.machine import own_cpu_seconds as peer_cpu_seconds
from booking.store.migrate import upgrade
from conference_ivr.app import build_booking
from conference_ivr.settings import Settings

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
SCRIPT = ROOT / "pyst2_baseline_script.py"
ACCESS = "8000"
TARGET_P99_MS = 5.0  # controller p99 per AGI exchange at 200 concurrent calls
TARGET_CPU_RATIO = 10.0  # baseline CPU per join / controller CPU per join
TARGET_LEVEL = 200


@dataclass(frozen=True)
class Room:
    number: str
    pin: str


def book_rooms(url: str, data_dir: Path, count: int) -> list[Room]:
    """``count`` anytime rooms of 30 seats (the most an anytime room may have), each its own
    profile's: enough held seats for every call of a run (a seat is held 30 s without AMI)."""
    upgrade(url)
    booking = build_booking(Settings(database_url=url, data_dir=data_dir))
    try:
        rooms = []
        for i in range(count):
            r = booking.book(None, None, 30, profile=f"agi-bench-{i}")
            rooms.append(Room(r.room.conference_number, r.room.pin))
        return rooms
    finally:
        booking.uow.engine.dispose()


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_mib: float
    gc: dict[str, list[float]] | None = None  # the controller's collector passes (bench/agi_server.py)
    loop_cpu_s: float | None = None  # the controller's event loop thread alone
    steps: dict[str, list[float]] | None = None  # journey-timed database calls: step -> (count, sum s)


def gc_delta(before: dict[str, list[float]] | None, after: dict[str, list[float]] | None) -> dict[str, Any]:
    """Collector passes per generation during a level, their seconds, and the longest pass."""
    if before is None or after is None:
        return {}
    return {
        "passes": [int(a - b) for a, b in zip(after["passes"], before["passes"], strict=True)],
        "seconds": [round(a - b, 4) for a, b in zip(after["seconds"], before["seconds"], strict=True)],
        "longest_ms_so_far": [round(x * 1000, 2) for x in after["longest"]],
    }


def db_calls(before: dict[str, list[float]] | None, after: dict[str, list[float]] | None) -> dict[str, float]:
    """Mean time of the journey's database calls during a level, as the journey times them
    (``asyncio.to_thread`` included): conference_number (exists?) and pin (dial_in)."""
    if before is None or after is None:
        return {}
    out = {}
    for step, (count, total) in after.items():
        n, s = count - before[step][0], total - before[step][1]
        if n:
            out[step] = round(s / n * 1000, 3)
    return out


class Server:
    """bench/agi_server.py as a child process; ``cpu()`` asks it for its own CPU seconds."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc, self.port = proc, port

    @classmethod
    async def start(
        cls,
        route: str,
        url: str,
        tmp: Path,
        profile: Path | None,
        switch_interval: float | None,
        gc_freeze: bool,
    ) -> Server:
        argv = [
            sys.executable,
            "-m",
            "bench.agi_server",
            "--route",
            route,
            "--database-url",
            url,
            "--data-dir",
            str(tmp),
            "--log-file",
            str(tmp / f"controller-{route}.log"),
        ]
        if profile is not None:
            argv += ["--profile", str(profile)]
        if switch_interval is not None:
            argv += ["--switch-interval", str(switch_interval)]
        if gc_freeze:
            argv.append("--gc-freeze")
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line.startswith(b"PORT "):
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"bench.agi_server did not start: {line!r}")
        return cls(proc, int(line.split()[1]))

    async def cpu(self) -> Usage:
        """CPU seconds, max RSS and garbage-collector passes of the server process."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"cpu\n")
        await self.proc.stdin.drain()
        usage = json.loads((await asyncio.wait_for(self.proc.stdout.readline(), 30)).split(maxsplit=1)[1])
        return Usage(usage["cpu_s"], usage["rss_mib"], usage["gc"], usage["loop_cpu_s"], usage["steps"])

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def caller_for(
    rooms: list[Room], network: bool, script: str, numbers: itertools.count[int]
) -> Callable[[int], tuple[bytes, Caller]]:
    """Call ``i`` of a level: the next room in turn, a caller number and channel id of its own."""

    def make(i: int) -> tuple[bytes, Caller]:
        n = next(numbers)
        room = rooms[n % len(rooms)]
        headers = agi_headers(n, ACCESS, f"+42060{n:07d}", script, network)
        keys = [("1", "greeting key"), (room.number, "conference number"), (room.pin, "PIN")]
        return headers, Caller(keys)

    return make


@dataclass
class Plan:
    seconds: float
    max_calls: int
    ramp_s: float
    call_timeout_s: float
    read_s: tuple[float, float]
    play_s: tuple[float, float]
    seed: int


async def warm_up(
    line_for: Callable[[], Line], call: Callable[[int], tuple[bytes, Caller]], plan: Plan, calls: int
) -> None:
    """A few calls one after the other, not measured: first imports, connections, caches."""
    media = MediaTime((0, 0), (0, 0))
    for i in range(calls):
        headers, who = call(i)
        rec = await play_call(line_for(), headers, who, media, plan.call_timeout_s)
        if not rec.joined:
            raise RuntimeError(f"warm-up call did not join: {rec}")


async def measure(
    name: str,
    line_for: Callable[[], Line],
    call: Callable[[int], tuple[bytes, Caller]],
    plan: Plan,
    concurrency: int,
    cpu: Callable[[], Awaitable[Usage]],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One level of one implementation; ``cpu`` reads the implementation's CPU so far."""
    media = MediaTime(plan.read_s, plan.play_s, seed=plan.seed + concurrency)
    load_before = loadavg()
    use0 = await cpu()
    peer0 = peer_cpu_seconds()
    level = await run_level(
        line_for, call, media, concurrency, plan.seconds, plan.max_calls, plan.ramp_s, plan.call_timeout_s
    )
    peer1 = peer_cpu_seconds()
    use1 = await cpu()
    out: dict[str, Any] = {"implementation": name, **level_summary(level)}
    joined, spent = out["joined"], use1.cpu_s - use0.cpu_s
    out.update(
        cpu_s=round(spent, 3),
        cpu_per_join_ms=round(spent / joined * 1000, 3) if joined else None,
        loop_cpu_per_join_ms=(
            round((use1.loop_cpu_s - use0.loop_cpu_s) / joined * 1000, 3)
            if joined and use0.loop_cpu_s is not None and use1.loop_cpu_s is not None
            else None
        ),
        rss_mib=use1.rss_mib,
        gc=gc_delta(use0.gc, use1.gc),
        db_call_mean_ms=db_calls(use0.steps, use1.steps),
        peer_cpu_s=round(peer1 - peer0, 3),
        load_before=load_before,
        load_after=loadavg(),
    )
    x = out["exchanges"]
    log(
        f"  {name} x{concurrency}: {out['calls']} calls, {joined} joined ({out['joins_per_s']}/s), "
        f"exchange p50 {x.get('p50')} p99 {x.get('p99')} ms, start p99 {out['start'].get('p99')} ms, "
        f"CPU/join {out['cpu_per_join_ms']} ms, errors {out['errors']}"
    )
    return out


async def run(args: argparse.Namespace, tmp: Path, log: Callable[[str], None]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'agi-bench.db'}"
    rooms = book_rooms(url, tmp, args.rooms)
    log(f"{len(rooms)} rooms booked in {url}")
    read_s = (args.read_ms[0] / 1000, args.read_ms[1] / 1000)
    play_s = (args.play_ms[0] / 1000, args.play_ms[1] / 1000)
    media_mean = 3 * sum(read_s) / 2 + sum(play_s) / 2
    plan = Plan(args.seconds, args.max_calls, media_mean, args.call_timeout, read_s, play_s, args.seed)
    numbers = itertools.count(1)
    runs: list[dict[str, Any]] = []
    notes: list[str] = []
    probes: dict[str, dict[str, float]] = {}

    for route, name, levels in (("ivr", "controller", args.levels), ("floor", "floor", args.floor_levels)):
        if not levels:
            continue
        profile = (
            args.profile.with_name(f"{args.profile.stem}-{route}{args.profile.suffix}")
            if args.profile
            else None
        )
        server = await Server.start(route, url, tmp, profile, args.switch_interval, args.gc_freeze)
        try:
            call = caller_for(rooms, True, "ivr", numbers)

            def tcp(port: int = server.port) -> Line:
                return TcpLine("127.0.0.1", port)

            await warm_up(tcp, call, plan, 5)
            level_plan = plan if route == "ivr" else dataclasses.replace(plan, seconds=args.floor_seconds)
            for n in levels:
                runs.append(await measure(name, tcp, call, level_plan, n, server.cpu, log))
        finally:
            await server.stop()
        log_file = tmp / f"controller-{route}.log"
        problems = [ln for ln in log_file.read_text().splitlines() if '"log_level": "error"' in ln]
        if problems:
            notes.append(f"{name}: {len(problems)} error lines in its log, e.g. {problems[0][:300]}")

    env = {
        "PATH": os.environ.get("PATH", ""),
        "DIALCONF_DATABASE_URL": url,
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
    }
    for variant in args.baseline_variants:
        call = caller_for(rooms, False, str(SCRIPT), numbers)

        def spawn(v: str = variant) -> Line:
            return ProcessLine([sys.executable, str(SCRIPT), v], env)

        await warm_up(spawn, call, plan, 3)
        headers, who = call(0)
        rss, alone = probe_process([sys.executable, str(SCRIPT), variant], env, headers, who)
        probes[variant] = {"rss_mib": rss, "cpu_ms": round(alone * 1000, 1)}
        log(f"pyst2 {variant}: one call alone: {alone * 1000:.0f} ms CPU, peak RSS {rss} MiB")

        async def children(rss: float = rss) -> Usage:
            return Usage(children_cpu_seconds(), rss)

        base_plan = dataclasses.replace(plan, seconds=args.baseline_seconds)
        for n in args.baseline_levels:
            runs.append(await measure(f"pyst2 {variant}", spawn, call, base_plan, n, children, log))
    return {
        "runs": runs,
        "notes": notes,
        "rooms": len(rooms),
        "media_per_call_s": round(media_mean, 3),
        "baseline_alone": probes,
    }


# --- the report ------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    def v(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "structlog": v("structlog"),
        "prometheus_client": v("prometheus_client"),
        "pyst2": v("pyst2"),
    }


def find(runs: list[dict[str, Any]], name: str, concurrency: int) -> dict[str, Any] | None:
    return next((r for r in runs if r["implementation"] == name and r["concurrency"] == concurrency), None)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 1) if a is not None and b else None


def ratios(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each baseline run against the controller at the same concurrency (and at the target level)."""
    out = []
    for base in runs:
        if not base["implementation"].startswith("pyst2"):
            continue
        for against in sorted({base["concurrency"], TARGET_LEVEL}):
            ctrl = find(runs, "controller", against)
            if ctrl is None:
                continue
            out.append(
                {
                    "baseline": base["implementation"],
                    "baseline_concurrency": base["concurrency"],
                    "controller_concurrency": against,
                    "cpu_per_join": ratio(base["cpu_per_join_ms"], ctrl["cpu_per_join_ms"]),
                    "exchange_p50": ratio(base["exchanges"].get("p50"), ctrl["exchanges"].get("p50")),
                    "exchange_p99": ratio(base["exchanges"].get("p99"), ctrl["exchanges"].get("p99")),
                    "start_p99": ratio(base["start"].get("p99"), ctrl["start"].get("p99")),
                    "busy_per_call_p99": ratio(
                        base["busy_per_call"].get("p99"), ctrl["busy_per_call"].get("p99")
                    ),
                }
            )
    return out


def verdict(
    runs: list[dict[str, Any]], rats: list[dict[str, Any]], notes: list[str]
) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = not notes
    for r in runs:
        if r["not_joined"] or r["errors"]:
            ok = False
            lines.append(
                f"{r['implementation']} x{r['concurrency']}: {r['not_joined']} calls did not join, "
                f"{r['errors']} errors ({'; '.join(r['error_samples'][:2])}): FAILED."
            )
    ctrl = find(runs, "controller", TARGET_LEVEL)
    if ctrl is not None:
        p99 = ctrl["exchanges"]["p99"]
        met = p99 <= TARGET_P99_MS
        lines.append(
            f"Controller p99 per AGI exchange at {TARGET_LEVEL} concurrent calls: {p99} ms "
            f"(p50 {ctrl['exchanges']['p50']} ms, {ctrl['exchanges']['n']} exchanges): target <= "
            f"{TARGET_P99_MS:g} ms {'met' if met else 'MISSED'}. The line start (connect + headers to "
            f"ANSWER) p99 {ctrl['start'].get('p99')} ms."
        )
    floor = find(runs, "floor", TARGET_LEVEL)
    if floor is not None and ctrl is not None:
        lines.append(
            f"Measuring floor at {TARGET_LEVEL} (same server and session, no journey logic): exchange "
            f"p50 {floor['exchanges']['p50']} / p99 {floor['exchanges']['p99']} ms."
        )
    for x in rats:
        if x["baseline_concurrency"] != x["controller_concurrency"]:
            continue
        cpu = x["cpu_per_join"]
        met = cpu is not None and cpu >= TARGET_CPU_RATIO
        lines.append(
            f"CPU per join, {x['baseline']} / controller at {x['baseline_concurrency']} concurrent: "
            f"{cpu}x: target >= {TARGET_CPU_RATIO:g}x {'met' if met else 'MISSED'}; exchange p99 "
            f"{x['exchange_p99']}x, line start p99 {x['start_p99']}x, busy time per call p99 "
            f"{x['busy_per_call_p99']}x."
        )
    lines += notes
    return lines, ok


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """What the spread across runs is judged on: per run, p50/p99 per exchange and CPU per join."""
    return {
        "finished": report["finished"],
        "load_before": report["load_before"],
        "load_after": report["load_after"],
        "runs": {
            f"{r['implementation']} x{r['concurrency']}": [
                r["exchanges"].get("p50"),
                r["exchanges"].get("p99"),
                r["cpu_per_join_ms"],
            ]
            for r in report["runs"]
        },
    }


def earlier_runs(path: Path, keep: int = 5) -> list[dict[str, Any]]:
    """The headlines of today's earlier runs, from the results file this run replaces."""
    try:
        old = json.loads(path.read_text())
        return [*old.get("earlier_runs", []), headline(old)][-keep:]
    except (OSError, ValueError, KeyError):
        return []


def cell(s: dict[str, Any], *keys: str) -> str:
    return " / ".join(str(s.get(k, "-")) for k in keys) if s.get("n") else "-"


def markdown(report: dict[str, Any]) -> str:
    m, v, a = report["machine"], report["versions"], report["args"]
    runs = report["runs"]
    lines = [
        f"# AGI benchmark, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
        f"load average {report['load_before']} before the run, {report['load_after']} after "
        "(other work on the machine competes for the CPUs; each run's own are in the JSON).  ",
        f"Python {v['python']}, SQLite {v['sqlite']}, SQLAlchemy {v['sqlalchemy']}, structlog "
        f"{v['structlog']}, prometheus_client {v['prometheus_client']}, pyst2 {v['pyst2']}.  ",
        f"Code: {report['revision']}. Command: `{report['command']}` ({report['seconds']:.0f} s in all).",
        "",
        "## What runs",
        "",
        "- **controller**: `bench/agi_server.py`, its own process: `build_controller` (the real "
        "DialInJourney, ThreadedDirectory over the booking service, the live seat gate, metrics, JSON "
        "logs at info) over a SQLite WAL store with "
        f"{report['rooms']} anytime rooms. FastAGI only: AMI not connected, names not recorded.",
        "- **pyst2 service / pyst2 sqlite3**: `bench/pyst2_baseline_script.py`, one process per call, "
        "AGI over stdin/stdout with pyst2; the booking looked up with the booking service's own "
        "`DialInService` (service) or the standard library's sqlite3 (the leanest script).",
        "- **floor**: the same FastAGI server and session code with a route that only sends the "
        "journey's commands (no database, logs, metrics): what the measuring adds.",
        *(
            [
                "- **Not as shipped**: the controller process ran with "
                f"gc.freeze() {bool(a.get('gc_freeze'))}, sys.setswitchinterval {a.get('switch_interval')} "
                "(an experiment, see the JSON's args)."
            ]
            if a.get("gc_freeze") or a.get("switch_interval") is not None
            else []
        ),
        "",
        "The peer (`bench/agi_peer.py`, in the benchmark's process, loopback only) plays Asterisk: "
        "headers, then `200 result=` replies, keying 1, the conference number and the PIN. Read() "
        f"replies are held {a['read_ms'][0]}-{a['read_ms'][1]} ms and STREAM FILE {a['play_ms'][0]}-"
        f"{a['play_ms'][1]} ms (media time, ~{report['media_per_call_s']} s a call: a real journey's "
        "~20 s compressed about tenfold, so N calls here offer ~10x the join rate of N real callers); "
        "the rest is answered at once. N callers place calls back to back, started over one call's "
        f"length; new calls for {a['seconds']:g} s per level ({a['baseline_seconds']:g} s for the "
        "baseline), then the calls in flight finish.",
        "",
        "An **exchange** is the time from the peer's reply to the next command: the implementation's "
        "cost for that step (17 per call). **start**: opening the line to the first command (TCP + "
        "headers; for a script: fork/exec, interpreter, imports, pyst2). **end**: last reply to the line "
        "closing. **busy per call**: start + exchanges up to the join. **CPU per join**: the controller "
        "process's CPU over the level (every thread), or the CPU of every script process (start-up "
        "included; not Asterisk's fork), divided by completed joins.",
        "",
        "## Summary",
        "",
        "| run | N | calls | joined | joins/s | exchanges | exchange p50 / p99 / max ms | start p50 / p99 ms "
        "| end p99 ms | busy per call p50 / p99 ms | CPU per join ms | RSS MiB | peer CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['implementation']} | {r['concurrency']} | {r['calls']} | {r['joined']} "
            f"| {r['joins_per_s']} | {r['exchanges'].get('n', 0)} "
            f"| {cell(r['exchanges'], 'p50', 'p99', 'max')} | {cell(r['start'], 'p50', 'p99')} "
            f"| {cell(r['end'], 'p99')} | {cell(r['busy_per_call'], 'p50', 'p99')} "
            f"| {r['cpu_per_join_ms']} | {r['rss_mib']} | {r['peer_cpu_s']} |"
        )
    kinds = sorted({k for r in runs for k in r["by_kind"]})
    steps = sorted({k for r in runs for k in r["by_step"]})
    lines += [
        "",
        "RSS: the controller process's peak; for the baseline, one script process's peak (N of them run "
        "at once), from one call run alone before its levels (`wait4`), which also gives the CPU of one "
        "call on an otherwise idle interpreter: "
        + (
            "; ".join(
                f"pyst2 {v}: {p['cpu_ms']} ms CPU, {p['rss_mib']} MiB"
                for v, p in report.get("baseline_alone", {}).items()
            )
            or "not run"
        )
        + ".",
        "",
        "## Per step, p50 / p99 ms",
        "",
        "By the command that arrived next, and after the keyed digits (after the conference number the "
        "controller looks the number up; after the PIN it runs `dial_in` and takes a seat).",
        "",
        "| step | " + " | ".join(f"{r['implementation']} x{r['concurrency']}" for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for k in kinds:
        lines.append(
            f"| {k} | " + " | ".join(cell(r["by_kind"].get(k, {}), "p50", "p99") for r in runs) + " |"
        )
    for k in steps:
        lines.append(
            f"| {k} | " + " | ".join(cell(r["by_step"].get(k, {}), "p50", "p99") for r in runs) + " |"
        )
    ctrl = [r for r in runs if r["implementation"] == "controller"]
    lines += [
        "",
        "## Inside the controller",
        "",
        "CPU per join split between the event loop's thread and the rest (the `asyncio.to_thread` "
        "workers that run the booking store's SQLAlchemy calls); the two database calls as the journey "
        "times them (`dialconf_controller_step_seconds`: the thread hop included); the cyclic garbage "
        "collector's passes during the level (gen 0 / 1 / 2) and the longest gen-2 pass since start.",
        "",
        "| N | CPU per join ms | event loop ms | worker threads ms | conference number lookup ms "
        "| PIN check (dial_in) ms | GC passes | GC seconds | longest gen-2 pass ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ctrl:
        loop, gc, db = r.get("loop_cpu_per_join_ms"), r.get("gc") or {}, r.get("db_call_mean_ms") or {}
        rest = round(r["cpu_per_join_ms"] - loop, 3) if loop is not None and r["cpu_per_join_ms"] else "-"
        lines.append(
            f"| {r['concurrency']} | {r['cpu_per_join_ms']} | {loop} | {rest} "
            f"| {db.get('conference_number', '-')} | {db.get('pin', '-')} "
            f"| {' / '.join(map(str, gc.get('passes', [])))} | {' / '.join(map(str, gc.get('seconds', [])))} "
            f"| {(gc.get('longest_ms_so_far') or ['-'] * 3)[2]} |"
        )
    lines += [
        "",
        "## Ratios (baseline / controller)",
        "",
        "| baseline | N | controller N | CPU per join | exchange p50 | exchange p99 | start p99 "
        "| busy per call p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for x in report["ratios"]:
        lines.append(
            f"| {x['baseline']} | {x['baseline_concurrency']} | {x['controller_concurrency']} "
            f"| {x['cpu_per_join']}x | {x['exchange_p50']}x | {x['exchange_p99']}x | {x['start_p99']}x "
            f"| {x['busy_per_call_p99']}x |"
        )
    lines += ["", "## Verdict", ""] + [f"- {line}" for line in report["verdict"]]
    earlier = report.get("earlier_runs") or []
    if earlier:
        runs_now = headline(report)
        every = [*earlier, runs_now]
        lines += [
            "",
            "## Spread over today's runs",
            "",
            "Exchange p50 / p99 ms and CPU per join ms of each run today (this one last); the load "
            "average before each run shows how busy the machine was.",
            "",
            "| run | "
            + " | ".join(f"{h['finished']} (load {h['load_before'].split()[0]})" for h in every)
            + " |",
            "|---|" + "---|" * len(every),
        ]
        for key in runs_now["runs"]:
            cells = []
            for h in every:
                x = h["runs"].get(key)
                cells.append(f"{x[0]} / {x[1]}; {x[2]}" if x else "-")
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, ""])


def levels(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def pair(text: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in text.split(","))
    return lo, hi


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", type=levels, default=[1, 50, 200], help="controller concurrency levels")
    ap.add_argument("--floor-levels", type=levels, default=[200], help="measuring-floor levels ('' for none)")
    ap.add_argument("--baseline-levels", type=levels, default=[1, 50], help="process-per-call levels")
    ap.add_argument(
        "--baseline-variants",
        type=lambda t: [x for x in t.split(",") if x],
        default=["service", "sqlite3"],
        help="service,sqlite3",
    )
    ap.add_argument("--seconds", type=float, default=15.0, help="new calls start this long, per level")
    ap.add_argument("--floor-seconds", type=float, default=10.0, help="the same for the floor")
    ap.add_argument("--baseline-seconds", type=float, default=12.0, help="the same for the baseline")
    ap.add_argument("--max-calls", type=int, default=20_000, help="per level, at most")
    ap.add_argument("--call-timeout", type=float, default=60.0, help="a call is cut after this")
    ap.add_argument("--read-ms", type=pair, default=(300.0, 700.0), help="Read() media time, lo,hi")
    ap.add_argument("--play-ms", type=pair, default=(100.0, 300.0), help="STREAM FILE media time, lo,hi")
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--profile", type=Path, help="cProfile the servers: PATH-ivr.prof, PATH-floor.prof")
    ap.add_argument(
        "--switch-interval",
        type=float,
        help="sys.setswitchinterval in the controller process (default: CPython's 0.005)",
    )
    ap.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in the controller once built")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--name", default="agi", help="results file name prefix")
    args = ap.parse_args(argv)
    if args.profile is not None:
        args.profile = args.profile.resolve()
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    with tempfile.TemporaryDirectory(prefix="dialconf-agi-bench-") as tmpdir:
        measured = asyncio.run(run(args, Path(tmpdir), log))
    rats = ratios(measured["runs"])
    lines, ok = verdict(measured["runs"], rats, measured["notes"])
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    report = {
        "date": date,
        "revision": git_revision(),
        "command": (
            "make bench"
            if argv is None and os.environ.get("MAKELEVEL")
            else " ".join(["python -m bench.agi_bench", *(sys.argv[1:] if argv is None else argv)])
        ),
        "seconds": round(time.monotonic() - began, 1),
        "load_before": load_before,
        "load_after": loadavg(),
        "finished": datetime.now(UTC).strftime("%H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "rooms": measured["rooms"],
        "media_per_call_s": measured["media_per_call_s"],
        "baseline_alone": measured["baseline_alone"],
        "runs": measured["runs"],
        "ratios": rats,
        "verdict": lines,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    report["earlier_runs"] = earlier_runs(args.out / f"{args.name}-{date}.json")
    (args.out / f"{args.name}-{date}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"{args.name}-{date}.md").write_text(markdown(report))
    log("")
    for line in lines:
        log(line)
    log(f"written: {args.out / f'{args.name}-{date}.md'} (.json); {report['seconds']:.0f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
