"""The media capacity benchmark (issue 10, item 3): members in one and in 15 conferences until
Asterisk passes 50 % of the machine, and the controller's share of CPU while they are there.

- The system: ``python -m conference_ivr run`` (what `make run` starts: Asterisk 22 with the
  project's rendered configuration, the controller, the booking API), isolated settings, a
  wide RTP range, booking limits raised so a room can hold the ceiling (bench/media_system.py).
- The members: SIPp over PJSIP/UDP on loopback, one process per conference; every call goes
  through the real IVR (1, conference number #, PIN #, # to skip the name) and then sends RTP
  (PCMU, 20 ms) until the bench hangs it up: a quiet line, or speech-like talk spurts for the
  first ``--talkers`` calls of each conference (bench/media_sipp.py, bench/media_audio.py).
- The ramp: members are added in steps; each step waits for the joins (ConfbridgeJoin on the
  bench's own AMI connection), settles, then samples CPU from /proc for ``--sample`` seconds:
  Asterisk's process, the controller's (the `run` process: FastAGI, AMI, booking API; every
  thread), SIPp's and the whole machine's. The next step aims from the last slope: short of
  50 % while far, past it once close, so two steps bracket it; members at 50 % are interpolated.
  A layout stops past 50 %, at ``--ceiling`` members, after ``--max-steps``, or when its share of
  ``--seconds`` (the whole run's) would be over before another step ends.
- Variants: the bridge/user profile as shipped, or tuned (mixing interval, dsp_drop_silence),
  written into the instance's rendered confbridge.conf and reloaded before a layout's first call.

Results go to bench/results/<name>-<date>.md and .json. Loopback only; every call ends when its
layout does (AMI hang-up, then SIPp's own -timeout). Run from the repository root:
``python -m bench.media_bench --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import loadavg
from bench.media_plot import plot
from bench.media_report import headline, markdown, members_at, verdict, versions
from bench.media_sipp import SippMembers, Timing, journey_s, scenario
from bench.media_system import (
    Members,
    Room,
    RunningSystem,
    bench_settings,
    book_rooms,
    sample,
)
from bench.publish import publish, run_facts
from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import parse_conf_file
from conference_ivr.pbx.instance import TEMPLATE_DIR

ROOT = Path(__file__).resolve().parent
THRESHOLD = 50.0  # Asterisk's CPU, % of the machine (all CPUs)
# name -> (mixing_interval ms, dsp_drop_silence)
# (mixing_interval ms, dsp_drop_silence); "shipped" is read from asterisk/confbridge.conf.
VARIANTS: dict[str, tuple[int, bool] | None] = {
    "shipped": None,
    "mi20": (20, True),
    "mi40": (40, True),
    "nodrop": (20, False),
    "mi40-nodrop": (40, False),
}


def profile_of(variant: str) -> tuple[int, bool]:
    """The variant's values; the shipped ones as the repository's confbridge.conf has them."""
    fixed = VARIANTS[variant]
    if fixed is not None:
        return fixed
    conf = parse_conf_file(TEMPLATE_DIR / "confbridge.conf")
    mixing = conf[names.BRIDGE_PROFILE].get("mixing_interval")
    drop = conf[names.USER_PROFILE_PARTICIPANT].get("dsp_drop_silence")
    return int(mixing or 20), drop == "yes"


@dataclass
class Layout:
    variant: str
    conferences: int
    rooms: list[Room]


def next_target(
    steps: list[dict[str, Any]], idle: float, c: int, ceiling: int, args: argparse.Namespace
) -> int:
    """Members for the next step: towards 50 % along the last slope, short of it while far
    (the slope can steepen), past it once within reach, so two steps bracket it."""
    last = steps[-1]
    n, cpu = last["target"], last["asterisk_pct"]
    slope = max((cpu - idle) / max(last["members"], 1), 1e-3)
    predicted = last["members"] + (THRESHOLD - cpu) / slope
    aim = predicted * 1.12 if predicted - n <= args.close else n + 0.8 * (predicted - n)
    step = min(max(aim - n, args.min_step), args.max_step)
    return int(min(ceiling, c * math.ceil((n + step) / c)))


async def stop_all(system: RunningSystem, sipps: list[SippMembers], members: Members) -> None:
    """No new calls, every channel hung up, SIPp gone, every member seen leaving."""
    for s in sipps:
        s.quit()
    system.hang_up_all()
    await asyncio.gather(*(s.stop(15) for s in sipps))
    system.hang_up_all()  # calls that were still being set up when SIPp was told to quit
    deadline = time.monotonic() + 20
    while members.count() and time.monotonic() < deadline:  # noqa: ASYNC110 (a count, not an event)
        await asyncio.sleep(0.2)


async def ramp(
    deadline: float,
    hint: int | None,
    system: RunningSystem,
    layout: Layout,
    members: Members,
    args: argparse.Namespace,
    tmp: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    began = time.monotonic()
    mix, drop = profile_of(layout.variant)
    system.set_profile(mix, drop)
    c = layout.conferences
    bridges = [r.bridge for r in layout.rooms]
    timing = Timing()
    journey = journey_s(layout.rooms[0].number, layout.rooms[0].pin, timing)
    idle = await sample(system, [], members, bridges, 2.0)
    log(f"{layout.variant}, {c} conference(s): idle Asterisk {idle['asterisk_pct']} %")
    per_conf_ceiling = args.ceiling // c
    # After a layout has measured where 50 % is, the next starts short of that, so its second
    # step can already pass it.
    # (No more than --max-step at once, though: 225 calls answered together next to a busy
    # conference lost keys and hardly any joined, bench run 2026-12-02.)
    # The curve starts at --first (50) members in every layout (issue 18: CPU per member from 50
    # to the 50 % point); a later layout's second step aims at 85 % of where the one before
    # reached 50 %, so its third can already pass it.
    target = min(c * math.ceil(args.first / c), c * per_conf_ceiling)
    sipps: list[SippMembers] = []
    steps: list[dict[str, Any]] = []
    voice_s = deadline - time.monotonic() + 60  # a member speaks until hung up; SIPp ends 30 s later
    try:
        for i, room in enumerate(layout.rooms):
            tag = f"{layout.variant}-{c}-{i}"
            prefix = f"+4202{list(VARIANTS).index(layout.variant)}{min(c, 9)}{i:02d}"
            xml = scenario(tmp, tag, room.number, room.pin, prefix, args.talkers, voice_s, timing)
            sipps.append(
                await SippMembers.start(
                    xml, f"127.0.0.1:{system.settings.asterisk.sip_port}", "8000", target // c,
                    int(per_conf_ceiling * 1.2) + 2, max(1.0, args.rate / c), voice_s + 30,
                )
            )  # fmt: skip
        while True:
            step_began = time.monotonic()
            for s in sipps:
                s.raise_to(target // c)
            joined = await members.wait_for(bridges, target, journey + args.join_wait, 5.0)
            join_s = round(time.monotonic() - step_began, 1)
            await asyncio.sleep(args.settle)
            row = {"target": target, "conferences": c, "join_s": join_s, "joined_at_wait": joined}
            row.update(await sample(system, sipps, members, bridges, args.sample))
            steps.append(row)
            log(
                f"  {row['members']} members ({target} wanted, joined in {join_s} s): "
                f"Asterisk {row['asterisk_pct']} %, controller {row['controller_pct']} % "
                f"({row['controller_share_of_asterisk_pct']} % of Asterisk's), SIPp {row['sipp_pct']} %, "
                f"machine {row['machine_busy_pct']} %"
            )
            step_s = time.monotonic() - step_began
            if (
                row["asterisk_pct"] >= THRESHOLD
                or target >= c * per_conf_ceiling
                or len(steps) >= args.max_steps
            ):
                break
            if time.monotonic() + step_s > deadline:
                log("  (layout time is up)")
                break
            target = next_target(steps, idle["asterisk_pct"], c, c * per_conf_ceiling, args)
            if hint and len(steps) == 1:
                aim = min(round(0.85 * hint), steps[-1]["target"] + args.max_step)
                target = min(max(target, c * math.ceil(aim / c)), c * per_conf_ceiling)
    finally:
        await stop_all(system, sipps, members)
    return {
        "variant": layout.variant,
        "mixing_interval_ms": mix,
        "dsp_drop_silence": drop,
        "conferences": c,
        "idle": idle,
        "steps": steps,
        "members_at_50": members_at(steps, idle["asterisk_pct"], THRESHOLD),
        "seconds": round(time.monotonic() - began, 1),
        "calls_joined": members.joins,
        "members_heard_talking": len(members.talked),
    }


async def run(
    args: argparse.Namespace, run_deadline: float, tmp: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    settings = bench_settings(tmp, args.rtp_start, args.rtp_ports)
    layouts: list[Layout] = []
    for variant in args.variants:
        for c in args.layouts:
            rooms = book_rooms(settings, [args.ceiling // c + 5] * c)
            layouts.append(Layout(variant, c, rooms))
    started = time.monotonic()
    system = await RunningSystem.start(settings, tmp, args.announce_names)
    log(f"dialconf run up in {time.monotonic() - started:.1f} s: Asterisk {system.version()}")
    ami = system.ami()
    members = Members()
    ami.on_event(members.on_event)
    await ami.connect(wait_s=10)
    results: list[dict[str, Any]] = []
    try:
        for i, layout in enumerate(layouts):
            members.joins = 0
            members.talked.clear()
            # What is left of the run's time, shared by the layouts still to run (a few seconds
            # kept for each one's hang-up and the system's stop).
            left = run_deadline - time.monotonic() - 6
            deadline = time.monotonic() + left / (len(layouts) - i)
            hint = results[-1]["members_at_50"]["members"] if results else None
            results.append(await ramp(deadline, hint, system, layout, members, args, tmp, log))
        warnings = system.warnings()
        version = system.version()
    finally:
        await ami.close()
        await system.stop()
    errors = sum(
        1 for line in system.log.read_text(errors="replace").splitlines() if '"level": "error"' in line
    )
    return {
        "layouts": results,
        "asterisk": version,
        "asterisk_warnings": warnings,
        "controller_error_lines": errors,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ints = lambda text: [int(x) for x in text.split(",") if x.strip()]  # noqa: E731
    ap.add_argument("--layouts", type=ints, default=[1, 15], help="conferences per layout, e.g. 1,15")
    ap.add_argument(
        "--variants",
        type=lambda t: [x for x in t.split(",") if x],
        default=["shipped"],
        help=f"bridge/user profile variants, of {','.join(VARIANTS)} (each runs every layout)",
    )
    ap.add_argument("--ceiling", type=int, default=600, help="members per layout, at most")
    ap.add_argument(
        "--first",
        type=int,
        default=50,
        help="members in the first step of every layout (where the curve starts)",
    )
    ap.add_argument("--min-step", type=int, default=30, help="members added per step, at least")
    ap.add_argument("--max-step", type=int, default=160, help="members added per step, at most")
    ap.add_argument("--close", type=int, default=120, help="overshoot 50 %% once it is this few members away")
    ap.add_argument("--max-steps", type=int, default=4, help="steps per layout, at most")
    ap.add_argument(
        "--seconds", type=float, default=130.0, help="the whole run; no step starts that would end later"
    )
    ap.add_argument(
        "--announce-names",
        action="store_true",
        help="let the controller announce recorded names on joins (off: a join burst's announcements "
        "would still be playing while a step samples)",
    )
    ap.add_argument("--talkers", type=int, default=2, help="speaking members per conference")
    ap.add_argument("--rate", type=float, default=40.0, help="new calls per second, all conferences together")
    ap.add_argument("--join-wait", type=float, default=18.0, help="seconds past a journey to wait for joins")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after the joins before sampling")
    ap.add_argument("--sample", type=float, default=4.0, help="seconds of CPU sampling per step")
    ap.add_argument("--rtp-start", type=int, default=40000)
    ap.add_argument("--rtp-ports", type=int, default=3000, help="Asterisk's RTP range (2 ports a call)")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (scenarios, logs)")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--name", default="media", help="results file name prefix")
    args = ap.parse_args(argv)
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        measured = asyncio.run(run(args, began + args.seconds, args.keep.resolve(), log))
    else:
        with tempfile.TemporaryDirectory(prefix="dialconf-media-bench-") as tmpdir:
            measured = asyncio.run(run(args, began + args.seconds, Path(tmpdir), log))
    lines, ok = verdict(measured["layouts"], THRESHOLD)
    report = {
        **run_facts("bench.media_bench", argv, args, began, load_before),
        "versions": versions(measured["asterisk"]),
        **measured,
        "verdict": lines,
    }
    md = publish(args.out, args.name, report, markdown, log, headline)
    png = plot(
        report["layouts"], THRESHOLD, md.with_suffix(".png"),
        f"media benchmark {report['date']}: {report['revision']}",
    )  # fmt: skip
    if png is not None:
        log(f"written: {png}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
