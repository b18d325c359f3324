"""The join-storm benchmark (issue 10, item 2): SIPp callers over PJSIP with RFC 2833 DTMF,
``--calls`` callers arriving within ``--seconds`` into ``--conferences`` conferences, against the
whole system as `make run` starts it, and the same storm against a static-dialplan floor.

- System under test: `python -m conference_ivr run` (Asterisk 22 + the controller + the booking
  store, SQLite), own ports, a wider RTP band and enough seat capacity, ``--conferences`` anytime
  rooms booked before it starts. Callers dial 8000: the controller's FastAGI journey (greeting,
  1, conference number #, PIN #, name recording ended by #, ConfBridge).
- Floor: 8999 in the same instance, added to its rendered extensions.conf and confbridge.conf
  (not the repository's templates) and reloaded: Answer, Read the 1 and the conference number
  (the same prompts), then ConfBridge with a user profile holding a fixed ``pin=`` (ConfBridge's
  own PIN prompt and check). No AGI, no controller, no name recording. The callers key exactly
  the same steps at the same times (the floor caller's last # lands in the conference).
- Callers: a SIPp process per conference (a DTMF pcap cannot change per call), each placing
  calls/conferences calls at an even rate, staggered; every call holds ``--hold`` s, then BYE.
- Measured from the bench's own AMI connection (bench/storm_measure.py): joined / failed,
  answer (Newstate Up) to ConfbridgeJoin; from the instance's Asterisk log (bench/storm_log.py)
  the time after the PIN split into prompt audio, the caller's name recording and the system's
  own time; the controller's and Asterisk's CPU over each storm from /proc.

The controller storm runs first, then the calls drain, then the floor storm, on one running
system. Everything is bounded: SIPp's own global timeout and a kill by process group, the
system stopped by SIGINT then SIGKILL. Run from the repository root:
``python -m bench.storm_bench --help``. Results: bench/results/<name>-<date>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import storm_log
from bench.machine import children_cpu_seconds, loadavg, process_cpu_seconds
from bench.publish import publish, run_facts
from bench.storm_callers import Conference, journey, run_storm
from bench.storm_measure import Tracer, summarise
from bench.storm_report import headline, markdown, verdict, versions
from bench.storm_system import (
    CONTROLLER_ACCESS,
    FLOOR_ACCESS,
    FLOOR_BRIDGE_PREFIX,
    RunningSystem,
    book_rooms,
    metrics_delta,
    proc_wait_seconds,
    running_system,
    sound_seconds,
    storm_env,
    storm_settings,
)
from conference_ivr.ami.client import AmiClient
from conference_ivr.errors import AmiError

ROOT = Path(__file__).resolve().parent
FLOOR_PIN = "424242"
DIGIT_TIMEOUT_S = 6.0  # the controller's default (ControllerSettings.digit_timeout_ms); the floor's too


async def drain(tracer: Tracer, system: RunningSystem, timeout_s: float) -> int:
    """Wait until every traced call has hung up; hang up what is left after ``timeout_s``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tracer.idle.wait(), timeout_s)
    left = tracer.open_calls()
    if left:
        await asyncio.to_thread(system.rx, "channel request hangup all")
        await asyncio.sleep(1)
    return left


async def storm(
    name: str,
    service: str,
    conferences: list[Conference],
    args: argparse.Namespace,
    system: RunningSystem,
    tracer: Tracer,
    workdir: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    per_conference = args.calls // len(conferences)
    expected = per_conference * len(conferences)
    rate = per_conference / args.seconds
    target = f"127.0.0.1:{system.settings.asterisk.sip_port}"
    load_before = loadavg()
    ctl0, ast0, gen0 = (
        process_cpu_seconds(system.controller_pid),
        process_cpu_seconds(system.asterisk_pid()),
        children_cpu_seconds(),
    )
    wait0 = proc_wait_seconds(system.controller_pid)
    seen0 = tracer.seen.copy()
    metrics0 = await asyncio.to_thread(system.metrics)
    began = time.monotonic()
    # A call lasts its script plus the hold; the last starts after --seconds; then a margin.
    sipp_timeout = args.seconds + conferences[0].journey.scripted_s() + args.hold + 30
    runs = await run_storm(conferences, workdir / name, target, rate, per_conference, sipp_timeout)
    left = await drain(tracer, system, 15)
    wall = time.monotonic() - began
    ctl = process_cpu_seconds(system.controller_pid) - ctl0
    ast = process_cpu_seconds(system.asterisk_pid()) - ast0
    gen = children_cpu_seconds() - gen0
    waited = proc_wait_seconds(system.controller_pid) - wait0
    metrics = metrics_delta(metrics0, await asyncio.to_thread(system.metrics))
    calls = tracer.of(service, began)
    logged = storm_log.parse(system.instance.host("log", "trace"), {c.channel for c in calls})
    length = functools.cache(functools.partial(sound_seconds, system.instance))
    split = {ch: s for ch, entry in logged.items() if (s := storm_log.after_pin(entry, length)) is not None}
    out: dict[str, Any] = {
        "storm": name,
        "service": service,
        "conferences": len(conferences),
        "calls_per_conference": per_conference,
        "rate_per_s": round(rate * len(conferences), 1),
        "scripted_caller_s": round(conferences[0].journey.scripted_s(), 2),
        **summarise(calls, expected, split),
        "sipp": {
            "created": sum(r.created for r in runs),
            "successful": sum(r.successful for r in runs),
            "failed": sum(r.failed for r in runs),
            "exit_codes": sorted({str(r.returncode) for r in runs}),
            "errors": [f"{r.tag}: {r.errors}" for r in runs if r.failed or r.returncode][:3],
        },
        "hung_up_by_bench": left,
        "controller_metrics": metrics,
        # AMI events of the classes call and dtmf (a subset of what the controller reads).
        "ami_events_call_dtmf": dict((tracer.seen - seen0).most_common(8)),
        "ami_events_call_dtmf_total": (tracer.seen - seen0).total(),
        "wall_s": round(wall, 1),
        "cpu_s": {"controller": round(ctl, 2), "asterisk": round(ast, 2), "sipp": round(gen, 2)},
        # The controller's threads runnable but not running (waiting for a CPU): starvation.
        # (Asterisk's threads come and go with the calls, so its sum is not comparable.)
        "controller_runqueue_wait_s": round(waited, 2),
        # Share of one core over the storm's wall time, and of the whole machine.
        "cpu_pct_of_core": {k: round(v / wall * 100, 1) for k, v in (("controller", ctl), ("asterisk", ast))},
        "cpu_pct_of_machine": {
            k: round(v / wall / (os.cpu_count() or 1) * 100, 1)
            for k, v in (("controller", ctl), ("asterisk", ast))
        },
        "load_before": load_before,
        "load_after": loadavg(),
    }
    a2j, sysms = out["answer_to_joined_s"], out["system_after_pin_ms"]
    log(
        f"  {name}: {out['joined']}/{expected} joined, failed {out['failed']} (SIPp failed "
        f"{out['sipp']['failed']}); answer-to-joined p50 {a2j.get('p50')} p99 {a2j.get('p99')} s; "
        f"system after the PIN p50 {sysms.get('p50')} p99 {sysms.get('p99')} ms; CPU controller "
        f"{ctl:.1f} s (waited for a CPU {waited:.1f} s), asterisk {ast:.1f} s over {wall:.0f} s"
    )
    return out


async def run(args: argparse.Namespace, tmp: Path, log: Callable[[str], None]) -> dict[str, Any]:
    # RTP + RTCP for every call of a storm, with room to spare while the previous one drains.
    settings = storm_settings(tmp, rtp_ports=max(2000, args.calls * 4), capacity=args.conferences * 30 + 100)
    rooms = book_rooms(settings, args.conferences)
    env = storm_env(settings)
    env["DIALCONF_CONTROLLER__DIGIT_TIMEOUT_MS"] = str(int(DIGIT_TIMEOUT_S * 1000))
    log(f"{len(rooms)} rooms booked; starting `python -m conference_ivr run`")
    started = time.monotonic()
    async with running_system(settings, env, tmp / "run.log") as system:
        log(f"system up in {time.monotonic() - started:.1f} s")
        await asyncio.to_thread(system.install_floor, FLOOR_PIN, DIGIT_TIMEOUT_S)
        a = settings.asterisk
        ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, system.instance.ami_secret(), events="call,dtmf")
        tracer = Tracer()
        ami.on_event(tracer)
        await ami.connect(wait_s=10)
        asterisk_version = system.version()
        storms = []
        try:
            for name, service, pin_of, prefix in (
                ("controller", CONTROLLER_ACCESS, None, "+4202310"),
                ("floor", FLOOR_ACCESS, FLOOR_PIN, "+4202320"),
            ):
                confs = [
                    Conference(
                        f"{name}-{i:02d}",
                        service,
                        f"{prefix}{i:02d}",
                        journey(room.number, pin_of or room.pin, args.hold),
                    )
                    for i, room in enumerate(rooms)
                ]
                storms.append(await storm(name, service, confs, args, system, tracer, tmp, log))
                await asyncio.sleep(args.pause)
        finally:
            with contextlib.suppress(AmiError):
                await ami.close()
    return {
        "storms": storms,
        "asterisk_version": asterisk_version,
        "floor_bridge_prefix": FLOOR_BRIDGE_PREFIX,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300, help="callers per storm")
    ap.add_argument("--seconds", type=float, default=10.0, help="the callers arrive within this")
    ap.add_argument("--conferences", type=int, default=15, help="conferences (one SIPp each)")
    ap.add_argument(
        "--hold",
        type=float,
        default=8.0,
        help="seconds each caller waits after its last key before BYE (the controller caller joins "
        '~1 s after it; "only person" for the first)',
    )
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between the two storms")
    ap.add_argument(
        "--workdir", type=Path, help="keep the SIPp files, the controller's log and the database here"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--name", default="storm", help="results file name prefix")
    args = ap.parse_args(argv)
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measured = asyncio.run(run(args, args.workdir.resolve(), log))
    else:
        with tempfile.TemporaryDirectory(prefix="dialconf-storm-bench-") as tmpdir:
            measured = asyncio.run(run(args, Path(tmpdir), log))
    lines, ok = verdict(measured["storms"])
    report = {
        **run_facts("bench.storm_bench", argv, args, began, load_before),
        "versions": {**versions(), "asterisk": measured["asterisk_version"]},
        **{k: v for k, v in measured.items() if k != "asterisk_version"},
        "verdict": lines,
    }
    publish(args.out, args.name, report, markdown, log, headline)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
