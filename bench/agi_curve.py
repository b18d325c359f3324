"""How the AGI controller's cost grows with the calls in flight (issue 18, goal 3): the curve
at every controller level (1 / 50 / 200 / 500 by default) as a Markdown table and a PNG plot
beside the results, with the process-per-call baseline at the levels it ran (it is CPU-bound
from 50 on: two cores start ~25 scripts a second) and the code before this branch's changes
when the run measured it (``--before-tree``).

Kept apart from bench/agi_report.py (the verdict and the full tables): this is the one view
that reads across levels, and the only one that needs matplotlib (imported when plotting, with
the Agg backend: no display on a build machine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONTROLLER = "controller"
BEFORE = "controller before"
LEAN = "pyst2 sqlite3"  # the leanest process-per-call script: the CPU target's baseline
TARGET_P99_MS = 5.0
TARGET_CPU_RATIO = 10.0


def _levels(runs: list[dict[str, Any]], name: str) -> dict[int, dict[str, Any]]:
    return {r["concurrency"]: r for r in runs if r["implementation"] == name}


def curve(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per controller level: exchange p50/p99, CPU per join, the lean script's CPU per
    join at the same level (None where it did not run) and the ratio; the same of the code
    before, where measured."""
    ctrl, lean, before = _levels(runs, CONTROLLER), _levels(runs, LEAN), _levels(runs, BEFORE)
    rows = []
    for n in sorted(ctrl):
        c, b, old = ctrl[n], lean.get(n), before.get(n)
        cpu, base = c["cpu_per_join_ms"], b["cpu_per_join_ms"] if b else None
        rows.append(
            {
                "calls": n,
                "joins_per_s": c["joins_per_s"],
                "p50_ms": c["exchanges"].get("p50"),
                "p99_ms": c["exchanges"].get("p99"),
                "cpu_per_join_ms": cpu,
                "baseline_cpu_per_join_ms": base,
                "ratio": round(base / cpu, 1) if base and cpu else None,
                "before_p99_ms": old["exchanges"].get("p99") if old else None,
                "before_cpu_per_join_ms": old["cpu_per_join_ms"] if old else None,
            }
        )
    return rows


def _cell(x: object) -> str:
    return "-" if x is None else str(x)


def markdown(rows: list[dict[str, Any]], png: str | None) -> list[str]:
    """The section for the results file; ``png``: the plot's file name beside it."""
    if not rows:
        return []
    lines = [
        "## The curve",
        "",
        "Per level of calls in flight (compressed media time, so N calls offer ~10x the join rate "
        f"of N real callers): the controller's AGI exchange p50 / p99 and CPU per join, the leanest "
        f"process-per-call script's ({LEAN}) CPU per join where it ran, and their ratio (target "
        f">= {TARGET_CPU_RATIO:g}x); the code before this branch where the run measured it.",
        "",
        "| calls in flight | joins/s | exchange p50 / p99 ms | CPU per join ms | pyst2 sqlite3 CPU per "
        "join ms | ratio | before: p99 ms, CPU per join ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        before = (
            f"{r['before_p99_ms']}, {r['before_cpu_per_join_ms']}"
            if r["before_cpu_per_join_ms"] is not None
            else "-"
        )
        lines.append(
            f"| {r['calls']} | {r['joins_per_s']} | {r['p50_ms']} / {r['p99_ms']} "
            f"| {r['cpu_per_join_ms']} | {_cell(r['baseline_cpu_per_join_ms'])} "
            f"| {_cell(r['ratio']) + ('x' if r['ratio'] is not None else '')} | {before} |"
        )
    if png:
        lines += ["", f"![the AGI curve]({png})"]
    return [*lines, ""]


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Two panels over the calls in flight (log scale): exchange p50/p99 against the 5 ms
    target, and CPU per join against the lean script's and a tenth of it. None: no rows."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    calls = [r["calls"] for r in rows]
    fig, (lat, cpu) = plt.subplots(1, 2, figsize=(11, 4.2))
    lat.plot(calls, [r["p50_ms"] for r in rows], "o-", label="controller p50")
    lat.plot(calls, [r["p99_ms"] for r in rows], "s-", label="controller p99")
    before = [(r["calls"], r["before_p99_ms"]) for r in rows if r["before_p99_ms"] is not None]
    if before:
        lat.plot(*zip(*before, strict=True), "x--", color="grey", label="before p99")
    lat.axhline(TARGET_P99_MS, color="red", linestyle=":", label=f"target p99 {TARGET_P99_MS:g} ms")
    lat.set(xscale="log", yscale="log", xlabel="calls in flight", ylabel="AGI exchange, ms")
    lat.set_title("AGI exchange")
    lat.legend(fontsize=8)
    cpu.plot(calls, [r["cpu_per_join_ms"] for r in rows], "o-", label="controller")
    old = [(r["calls"], r["before_cpu_per_join_ms"]) for r in rows if r["before_cpu_per_join_ms"]]
    if old:
        cpu.plot(*zip(*old, strict=True), "x--", color="grey", label="before")
    base = [(r["calls"], r["baseline_cpu_per_join_ms"]) for r in rows if r["baseline_cpu_per_join_ms"]]
    if base:
        xs, ys = zip(*base, strict=True)
        cpu.plot(xs, ys, "^-", label=f"{LEAN} (process per call)")
        cpu.plot(xs, [y / TARGET_CPU_RATIO for y in ys], "r:", label=f"{LEAN} / {TARGET_CPU_RATIO:g}")
    cpu.set(xscale="log", yscale="log", xlabel="calls in flight", ylabel="CPU per join, ms")
    cpu.set_title("CPU per join")
    cpu.legend(fontsize=8)
    for ax in (lat, cpu):  # the levels themselves as ticks, not powers of ten
        ax.set_xticks(calls, [str(n) for n in calls])
        ax.minorticks_off()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
