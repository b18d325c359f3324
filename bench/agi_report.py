"""The AGI benchmark's report: versions, ratios, the verdict against the targets, the markdown."""

from __future__ import annotations

import importlib.metadata
import platform
import sqlite3
from typing import Any

import sqlalchemy

from bench import agi_curve

TARGET_P99_MS = 5.0  # controller p99 per AGI exchange at 200 concurrent calls
TARGET_CPU_RATIO = 10.0  # baseline CPU per join / controller CPU per join
TARGET_LEVEL = 200


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
    paced = find(runs, "controller real pace", TARGET_LEVEL)
    for run, pace in ((paced, "at callers' pace"), (ctrl, "compressed ~10x (stress)")):
        if run is None:
            continue
        p99 = run["exchanges"]["p99"]
        met = p99 <= TARGET_P99_MS
        lines.append(
            f"Controller p99 per AGI exchange at {TARGET_LEVEL} concurrent calls {pace}"
            f": {p99} ms (p50 {run['exchanges']['p50']} ms, {run['exchanges']['n']} exchanges, "
            f"{run['joins_per_s']} joins/s): target <= {TARGET_P99_MS:g} ms {'met' if met else 'MISSED'}. "
            f"The line start (connect + headers to ANSWER) p99 {run['start'].get('p99')} ms."
        )
    untuned = find(runs, "controller untuned", TARGET_LEVEL)
    if untuned is not None and ctrl is not None:
        lines.append(
            f"Tuning (gc.freeze, GIL switch interval), before -> after at {TARGET_LEVEL}: exchange p99 "
            f"{untuned['exchanges']['p99']} -> {ctrl['exchanges']['p99']} ms, CPU per join "
            f"{untuned['cpu_per_join_ms']} -> {ctrl['cpu_per_join_ms']} ms."
        )
    for other, what in (
        ("controller before", "The code before this branch (--before-tree), before -> after"),
        (
            "controller 5 ms switch",
            "GIL switch interval 5 ms (CPython's) -> the tuned one, gc.freeze in both",
        ),
    ):
        was = find(runs, other, TARGET_LEVEL)
        if was is not None and ctrl is not None:
            lines.append(
                f"{what} at {TARGET_LEVEL}, same run: exchange p50 {was['exchanges']['p50']} -> "
                f"{ctrl['exchanges']['p50']} ms, p99 {was['exchanges']['p99']} -> {ctrl['exchanges']['p99']}"
                f" ms, CPU per join {was['cpu_per_join_ms']} -> {ctrl['cpu_per_join_ms']} ms, joins/s "
                f"{was['joins_per_s']} -> {ctrl['joins_per_s']}."
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


def cell(s: dict[str, Any], *keys: str) -> str:
    return " / ".join(str(s.get(k, "-")) for k in keys) if s.get("n") else "-"


def markdown(report: dict[str, Any]) -> str:
    m, v, a = report["machine"], report["versions"], report["args"]
    runs = report["runs"]
    scale = a.get("real_scale", 10)
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
        (
            "- **Not as shipped**: the servers ran with CPython's defaults (`--untuned`), or another "
            f"GIL switch interval ({a.get('switch_interval')}): an experiment, see the JSON's args."
            if a.get("untuned") or a.get("switch_interval") is not None
            else "- **Tuning**: every server process is tuned as `dialconf run` tunes its controller "
            "(`conference_ivr.dialconf.runner.tune_for_serving`: gc.freeze() once built, the GIL "
            "switch interval from `controller.gil_switch_ms`). **controller untuned**: the same "
            "controller with CPython's defaults (no gc.freeze, 5 ms switch interval): the tuning's "
            "before/after."
        ),
        "",
        "The peer (`bench/agi_peer.py`, in the benchmark's process, loopback only) plays Asterisk: "
        "headers, then `200 result=` replies, keying 1, the conference number and the PIN. Read() "
        f"replies are held {a['read_ms'][0]}-{a['read_ms'][1]} ms and STREAM FILE {a['play_ms'][0]}-"
        f"{a['play_ms'][1]} ms (media time, ~{report['media_per_call_s']} s a call: a real journey's "
        "~20 s compressed about tenfold, so N calls here offer ~10x the join rate of N real callers); "
        "the rest is answered at once. N callers place calls back to back, started over one call's "
        f"length; new calls for {a['seconds']:g} s per level ({a['baseline_seconds']:g} s for the "
        "baseline), then the calls in flight finish. **controller real pace**: the same controller with "
        f"every media time x{scale:g} (~{report['media_per_call_s'] * scale:.0f} s a call, as long as "
        "callers take): N calls in flight offer the join rate of N real callers; "
        f"the N callers start within {a.get('real_ramp', 5):g} s and new calls start for "
        f"{a.get('real_seconds', 12):g} s. The target (p99 at 200 concurrent calls) is read there; "
        "the compressed levels are the stress test.",
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
    ctrl = [r for r in runs if r["implementation"].startswith("controller")]
    lines += [
        "",
        "## Inside the controller",
        "",
        "CPU per join split between the event loop's thread and the rest (the IVR's lookup "
        "threads that run the booking store's SQLAlchemy calls); the two database calls as the journey "
        "times them (`dialconf_controller_step_seconds`: the thread hop included); the cyclic garbage "
        "collector's passes during the level (gen 0 / 1 / 2) and the longest gen-2 pass since start.",
        "",
        "| run | N | CPU per join ms | event loop ms | worker threads ms | conference number lookup ms "
        "| PIN check (dial_in) ms | GC passes | GC seconds | longest gen-2 pass ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ctrl:
        loop, gc, db = r.get("loop_cpu_per_join_ms"), r.get("gc") or {}, r.get("db_call_mean_ms") or {}
        rest = round(r["cpu_per_join_ms"] - loop, 3) if loop is not None and r["cpu_per_join_ms"] else "-"
        lines.append(
            f"| {r['implementation']} | {r['concurrency']} | {r['cpu_per_join_ms']} | {loop} | {rest} "
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
    # The curve across levels and its plot, written beside this file by bench/agi_bench.py.
    png = f"{report['args'].get('name', 'agi')}-{report['date']}.png"
    lines += ["", *agi_curve.markdown(report.get("curve") or [], png)]
    lines += ["## Verdict", ""] + [f"- {line}" for line in report["verdict"]]
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
