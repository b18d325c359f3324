"""The AGI benchmark (issue 10, item 1): the controller's cost per IVR step and per join,
against the classic process-per-call AGI script, in the same run.

- The controller: bench/agi_server.py in its own process, the real composition
  (``build_controller``: DialInJourney, ThreadedDirectory, the live seat gate, metrics, logs at
  info) over a SQLite booking store (WAL, as ``make run``) with ``--rooms`` anytime rooms booked.
- The peer: bench/agi_peer.py in this process, a fake Asterisk on loopback. At each level, N
  callers place calls back to back (N = 1, 50, 200 in flight); every call is a full journey
  (greeting, 1, conference number, PIN, room check, ConfBridge variables) for a
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
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import agi_curve
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
from bench.agi_report import headline, markdown, ratios, verdict, versions
from bench.machine import children_cpu_seconds, loadavg
from bench.machine import own_cpu_seconds as peer_cpu_seconds
from bench.publish import publish, run_facts
from booking.store.migrate import upgrade
from conference_ivr.dialconf.services import build_services
from conference_ivr.settings import Settings

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
SCRIPT = ROOT / "pyst2_baseline_script.py"
ACCESS = "8000"


@dataclass(frozen=True)
class Room:
    number: str
    pin: str


def book_rooms(url: str, data_dir: Path, count: int) -> list[Room]:
    """``count`` anytime rooms of 30 seats (the most an anytime room may have), each its own
    profile's: enough held seats for every call of a run (a seat is held 30 s without AMI)."""
    upgrade(url)
    services = build_services(Settings(database_url=url, data_dir=data_dir))
    booking = services.booking
    try:
        rooms = []
        for i in range(count):
            r = booking.book(None, None, 30, profile=f"agi-bench-{i}")
            rooms.append(Room(r.room.conference_number, r.room.pin))
        return rooms
    finally:
        services.close()


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
    (``asyncio.to_thread`` included): pin (dial_in, the one decision after number and PIN)."""
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
        untuned: bool,
        tree: Path = REPO,
    ) -> Server:
        """``tree``: the checkout whose code the server runs (another one: the code before)."""
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
        if untuned:
            argv.append("--untuned")
        env = {**os.environ, "PYTHONPATH": str(tree)}
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=tree, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
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
    k = args.real_scale
    plans = {
        "controller": plan,
        # The before/after rows load the controller exactly as its own levels do.
        "controller before": plan,
        "controller 5 ms switch": plan,
        # Prompts and keying as long as callers take (the compressed plan's times x k): N calls
        # in flight then offer the join rate of N real callers.
        "controller real pace": dataclasses.replace(
            plan,
            seconds=args.real_seconds,
            ramp_s=args.real_ramp,
            read_s=(read_s[0] * k, read_s[1] * k),
            play_s=(play_s[0] * k, play_s[1] * k),
        ),
    }
    numbers = itertools.count(1)
    runs: list[dict[str, Any]] = []
    notes: list[str] = []
    probes: dict[str, dict[str, float]] = {}

    # (route, row name, levels, untuned, GIL switch interval, the code's checkout). The before
    # rows run the same levels of the same run from another checkout; "5 ms switch" keeps
    # gc.freeze but CPython's switch interval: the two halves of the tuning, side by side.
    servers = (
        ("ivr", "controller", args.levels, args.untuned, args.switch_interval, REPO),
        (
            "ivr",
            "controller before",
            args.before_levels,
            args.untuned,
            args.switch_interval,
            args.before_tree,
        ),
        ("ivr", "controller real pace", args.real_levels, args.untuned, args.switch_interval, REPO),
        ("ivr", "controller untuned", args.untuned_levels, True, None, REPO),
        ("ivr", "controller 5 ms switch", args.switch_levels, False, 0.005, REPO),
        ("floor", "floor", args.floor_levels, args.untuned, args.switch_interval, REPO),
    )
    for route, name, levels, untuned, switch, tree in servers:
        if not levels or tree is None:
            continue
        profile = (
            args.profile.with_name(f"{args.profile.stem}-{route}{args.profile.suffix}")
            if args.profile
            else None
        )
        server = await Server.start(route, url, tmp, profile, switch, untuned, tree)
        try:
            call = caller_for(rooms, True, "ivr", numbers)

            def tcp(port: int = server.port) -> Line:
                return TcpLine("127.0.0.1", port)

            await warm_up(tcp, call, plan, 5)
            level_plan = plans.get(name, dataclasses.replace(plan, seconds=args.floor_seconds))
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
        for n in args.service_levels if variant == "service" else args.baseline_levels:
            runs.append(await measure(f"pyst2 {variant}", spawn, call, base_plan, n, children, log))
    return {
        "runs": runs,
        "notes": notes,
        "rooms": len(rooms),
        "media_per_call_s": round(media_mean, 3),
        "baseline_alone": probes,
    }


# --- the report ------------------------------------------------------------------------------


def levels(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def pair(text: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in text.split(","))
    return lo, hi


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--levels", type=levels, default=[1, 50, 200], help="controller concurrency levels (the curve)"
    )
    ap.add_argument(
        "--before-tree",
        type=Path,
        help="a checkout of the code before (git worktree add --detach DIR REV): its controller "
        "runs --before-levels in the same run, as the before rows",
    )
    ap.add_argument("--before-levels", type=levels, default=[1, 50, 200], help="levels of --before-tree")
    ap.add_argument(
        "--switch-levels",
        type=levels,
        default=[],
        help="gc.freeze kept, CPython's 5 ms GIL switch interval (none by default: make bench's budget)",
    )
    ap.add_argument("--floor-levels", type=levels, default=[200], help="measuring-floor levels ('' for none)")
    ap.add_argument(
        "--real-levels", type=levels, default=[200], help="the controller at callers' pace ('' for none)"
    )
    ap.add_argument("--real-scale", type=float, default=10.0, help="callers' pace: media times x this")
    ap.add_argument("--real-seconds", type=float, default=8.0, help="new calls start this long, real pace")
    ap.add_argument("--real-ramp", type=float, default=5.0, help="real pace: the N callers start within this")
    ap.add_argument(
        "--untuned-levels",
        type=levels,
        default=[200],
        help="the controller with CPython's defaults (before/after)",
    )
    ap.add_argument("--baseline-levels", type=levels, default=[1, 50], help="process-per-call levels")
    # A call of the service script costs ~1 s of CPU: at 50 at once its level runs for half a
    # minute to show what x1 already shows (>= 80x the controller's CPU per join).
    ap.add_argument("--service-levels", type=levels, default=[1], help="the same, for the service script")
    ap.add_argument(
        "--baseline-variants",
        type=lambda t: [x for x in t.split(",") if x],
        default=["service", "sqlite3"],
        help="service,sqlite3",
    )
    ap.add_argument("--seconds", type=float, default=8.0, help="new calls start this long, per level")
    ap.add_argument("--floor-seconds", type=float, default=6.0, help="the same for the floor and untuned")
    ap.add_argument("--baseline-seconds", type=float, default=6.0, help="the same for the baseline")
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
    ap.add_argument(
        "--untuned",
        action="store_true",
        help="CPython's defaults in the servers, not `dialconf run`'s tuning",
    )
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
    rows = agi_curve.curve(measured["runs"])
    lines, ok = verdict(measured["runs"], rats, measured["notes"])
    report = {
        **run_facts("bench.agi_bench", argv, args, began, load_before),
        "versions": versions(),
        "rooms": measured["rooms"],
        "media_per_call_s": measured["media_per_call_s"],
        "baseline_alone": measured["baseline_alone"],
        "runs": measured["runs"],
        "ratios": rats,
        "curve": rows,
        "verdict": lines,
    }
    md = publish(args.out, args.name, report, markdown, log, headline)
    png = agi_curve.plot(
        rows, md.with_suffix(".png"), f"AGI benchmark {report['date']}: {report['revision']}"
    )
    if png is not None:
        log(f"written: {png}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
