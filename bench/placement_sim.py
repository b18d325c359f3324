"""The placement simulation (issue 21, item 6): planning past one machine.

A month of bookings generated from the booking rules (bench/placement_load.py: standard
conferences up to 20 participants and 120 minutes, a few non-standard ones, anytime rooms;
starts in working hours, peaks on the hour and half hour; seeded), sized so the concurrent
members peak near ``--peak-members``. Its busiest day (``--replay-days`` around the peak; the
whole month with ``--replay-days 30``: a few minutes with every variant) is replayed event by
event over ``--nodes`` media nodes of ``--seats`` seats (bench/placement_replay.py): each member
answered round robin, placed by booking.domain.placement.place with the placements in flight
and the booked seats counted (``--claim-slack``: the rule's), the fullest node killed at the
peak. The same days are replayed for each baseline (``--variants``; ``first_caller``: the rule
before its claims weighed booked seats).

Reported (bench/placement_report.py): max node load over the mean (goal <= 1.2) at p50 / p99 /
max of the busy samples, the relayed fraction, claims and follows, conferences split, and the
node loss's re-placement time and balance after it. Results go to
bench/results/placement-<date>.md, .json and .png. Pure Python, no sockets. Run from the
repository root: ``python -m bench.placement_sim --help``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.machine import loadavg
from bench.placement_load import DAY_S, Month, generate
from bench.placement_plot import plot
from bench.placement_replay import VARIANTS, Setup, replay
from bench.placement_report import TARGET_RATIO, markdown, summary, verdict
from bench.publish import publish, run_facts
from booking.settings import ClusterPlacementSettings

ROOT = Path(__file__).resolve().parent
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def pair(text: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in text.split(","))
    return lo, hi


def window(month: Month, days: int) -> tuple[float, float, str]:
    """The ``days`` days replayed: the whole month, or days around its peak, the peak's day in."""
    if days >= month.days:
        return 0.0, month.days * DAY_S, f"the whole month ({month.days} days)"
    peak_day = int(month.peak_at // DAY_S)
    first = min(max(0, peak_day - (days - 1) // 2), month.days - days)
    names = ", ".join(f"{WEEKDAYS[d % 7]} {d}" for d in range(first, first + days))
    return first * DAY_S, (first + days) * DAY_S, f"days {names} (the peak on day {peak_day})"


def month_facts(month: Month) -> dict[str, object]:
    clock = month.peak_at % DAY_S
    return {
        "conferences": len(month.conference_size),
        "non_standard": int(month.non_standard.sum()),
        "anytime": int(month.anytime.sum()),
        "members": month.members,
        "mean_size": float(month.conference_size.mean()) if len(month.conference_size) else 0.0,
        "peak_members": month.peak_members,
        "peak_day": int(month.peak_at // DAY_S),
        "peak_clock": f"{int(clock // 3600):02d}:{int(clock % 3600 // 60):02d}",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=30, help="the generated month's days (from a Monday)")
    ap.add_argument("--peak-members", type=int, default=20_000, help="concurrent members at the peak")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies --peak-members (and nothing else)")
    ap.add_argument(
        "--replay-days", type=int, default=1, help="days replayed around the peak (>= --days: all)"
    )
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--seats", type=int, default=500, help="members a node mixes at most")
    ap.add_argument("--lease-ttl-s", type=float, default=6.0)
    ap.add_argument("--ivr-s", type=pair, default=(3.0, 8.0), help="placement to joined, uniform lo,hi")
    ap.add_argument("--redial-s", type=pair, default=(10.0, 60.0), help="a dropped caller redials after")
    ap.add_argument(
        "--relay-detect-s", type=pair, default=(1.0, 3.0), help="a relaying node sees its Dial end"
    )
    ap.add_argument(
        "--claim-slack",
        type=float,
        default=ClusterPlacementSettings.model_fields["claim_slack"].default,
        help="the rule keeps a claim local within this fill of the least expected fill",
    )
    ap.add_argument("--sample-s", type=float, default=60.0)
    ap.add_argument("--busy-fraction", type=float, default=0.1, help="busy sample: mean >= this of seats")
    ap.add_argument("--no-kill", action="store_true", help="no node loss at the peak")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="rule first, then the baselines")
    ap.add_argument("--name", default="placement", help="results file name prefix")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    args = ap.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or variants[0] != "rule" or any(v not in VARIANTS for v in variants):
        ap.error(f"--variants: 'rule' first, then any of {', '.join(VARIANTS[1:])}")
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    month = generate(args.seed, args.days, round(args.peak_members * args.scale))
    lo, hi, label = window(month, args.replay_days)
    log(f"month: {month.members:,} members, peak {month.peak_members:,}; replaying {label}")
    setup = Setup(
        nodes=args.nodes, seats=args.seats, lease_ttl_s=args.lease_ttl_s, ivr_s=args.ivr_s,
        redial_s=args.redial_s, relay_detect_s=args.relay_detect_s, sample_s=args.sample_s,
        kill_at=None if args.no_kill else month.peak_at, window=(lo, hi), seed=args.seed,
        claim_slack=args.claim_slack,
    )  # fmt: skip
    replays, runs, seconds = {}, {}, {}
    for v in variants:
        t = time.monotonic()
        replays[v] = replay(month, v, replace(setup))
        seconds[v] = round(time.monotonic() - t, 1)
        runs[v] = summary(replays[v], args.seats, args.busy_fraction)
        r = runs[v]
        log(f"  {v}: {seconds[v]} s, max/mean p99 {r['ratio']['p99']}, relayed {r['relayed_fraction']:.1%}")
    lines, ok = verdict(runs, args.busy_fraction)
    in_window = int(((month.member_arrival >= lo) & (month.member_arrival < hi)).sum())
    report = {
        **run_facts("bench.placement_sim", argv, args, began, load_before),
        "month": month_facts(month),
        "window": {"from_s": lo, "to_s": hi, "label": label, "members": in_window},
        "replay_seconds": ", ".join(f"{v} {s} s" for v, s in seconds.items()),
        "runs": runs,
        "verdict": lines,
    }
    md = publish(args.out, args.name, report, markdown, log)
    log(f"written: {plot(replays, args.seats, args.busy_fraction, TARGET_RATIO, md.with_suffix('.png'))}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
