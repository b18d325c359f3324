"""`make bench`: every benchmark in turn, then bench/results/bench-<date>.md with each one's
verdict, the plots it wrote (its curves, issue 18: ``<name>*-<date>.png`` beside its results)
and the whole run's wall time against its 10-minute budget (issue 10).

A benchmark that missed a target may exit 1 after writing its results; the next one still
runs, and the summary counts the verdict lines that say MISSED. This exits non-zero only if
a benchmark wrote no results (it crashed or was stopped). Each benchmark's extra arguments
come from the environment (see the Makefile), split like a shell would.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.machine import git_revision, loadavg, machine

ROOT = Path(__file__).resolve().parent
BUDGET_S = 600.0


@dataclass(frozen=True)
class Bench:
    name: str  # its results file prefix
    module: str
    args_variable: str  # the environment variable with its extra arguments


BENCHES = (
    Bench("booking", "bench.booking_bench", "BOOKING_BENCH_ARGS"),
    Bench("agi", "bench.agi_bench", "AGI_BENCH_ARGS"),
    Bench("storm", "bench.storm_bench", "STORM_BENCH_ARGS"),
    Bench("media", "bench.media_bench", "MEDIA_BENCH_ARGS"),
    Bench("journey", "bench.journey_bench", "JOURNEY_BENCH_ARGS"),
    Bench("placement", "bench.placement_sim", "PLACEMENT_BENCH_ARGS"),
    Bench("cluster", "bench.cluster_bench", "CLUSTER_BENCH_ARGS"),
)


def run_one(bench: Bench, out: Path) -> dict[str, object]:
    began = time.time()
    argv = [sys.executable, "-m", bench.module, *shlex.split(os.environ.get(bench.args_variable, ""))]
    print(f"== {bench.name}: {' '.join(argv[1:])}", flush=True)
    rc = subprocess.run(argv, check=False).returncode
    seconds = round(time.time() - began, 1)
    written = sorted(out.glob(f"{bench.name}-????-??-??.json"), key=lambda p: p.stat().st_mtime)
    fresh = [p for p in written if p.stat().st_mtime >= began]
    verdict: list[str] = json.loads(fresh[-1].read_text()).get("verdict", []) if fresh else []
    # Its plots (one per curve; a benchmark may write several, e.g. media-tuning-<date>.png).
    plots = [p.name for p in sorted(out.glob(f"{bench.name}*-????-??-??.png")) if p.stat().st_mtime >= began]
    return {
        "name": bench.name,
        "exit": rc,
        "seconds": seconds,
        "results": str(fresh[-1].with_suffix(".md").relative_to(ROOT.parent)) if fresh else None,
        "plots": plots,
        "verdict": verdict,
    }


def markdown(date: str, runs: list[dict[str, object]], seconds: float, load: tuple[str, str]) -> str:
    m = machine()
    within = "within" if seconds <= BUDGET_S else "OVER"
    lines = [
        f"# make bench, {date}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; load "
        f"average {load[0]} before, {load[1]} after. Code: {git_revision()}.",
        "",
        f"Whole run: {seconds:.0f} s, {within} the {BUDGET_S / 60:.0f}-minute budget.",
        "",
        "| benchmark | seconds | targets | results | plots |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        missed = sum("MISSED" in v for v in r["verdict"])  # type: ignore[attr-defined]
        state = "no results" if not r["results"] else f"{missed} missed" if missed else "all met"
        # This file sits beside the plots: links by file name.
        plots = ", ".join(f"[{p}]({p})" for p in r.get("plots") or []) or "-"  # type: ignore[attr-defined]
        lines.append(f"| {r['name']} | {r['seconds']} | {state} | {r['results']} | {plots} |")
    for r in runs:
        lines += ["", f"## {r['name']}", ""]
        lines += [f"- {v}" for v in r["verdict"]] or ["- (no verdict: it wrote no results)"]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def main() -> int:
    out = ROOT / "results"
    load_before = loadavg()
    began = time.monotonic()
    runs = [run_one(b, out) for b in BENCHES]
    seconds = time.monotonic() - began
    date = time.strftime("%Y-%m-%d", time.gmtime())
    path = out / f"bench-{date}.md"
    path.write_text(markdown(date, runs, seconds, (load_before, loadavg())))
    print(f"\n{path.read_text()}", flush=True)
    return 0 if all(r["results"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
