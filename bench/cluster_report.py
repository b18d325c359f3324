"""The cluster benchmark's report: the ratio to the single node, the verdict, the markdown."""

from __future__ import annotations

import json
from typing import Any

from bench.storm_report import cell

TARGET_FAILED = 0
TARGET_RATIO = 1.1  # cluster answer-to-joined / single node's, p50 and p99


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ratios(storms: list[dict[str, Any]]) -> dict[str, float | None]:
    by = {s["storm"]: s for s in storms}
    one, both = by.get("single"), by.get("cluster")
    if one is None or both is None:
        return {}
    a, b = both["answer_to_joined_s"], one["answer_to_joined_s"]
    return {p: _ratio(a.get(p), b.get(p)) for p in ("p50", "p90", "p99")}


def cpu_figures(cpu: dict[str, Any]) -> dict[str, float | None]:
    """A local member's CPU (mixed where it was answered), a relayed one's (mixed on the host
    plus its leg on the answering node), and the relayed / local ratio; ms per member per s."""
    m = cpu["ms_per_s"]
    local, on_host, leg = m["local_member_on_host"], m["relayed_member_on_host"], m["relayed_leg_on_relayer"]
    relayed = round(on_host + leg, 3) if on_host is not None and leg is not None else None
    return {"local": local, "relayed": relayed, "relayed_leg": leg, "ratio": _ratio(relayed, local)}


def verdict(storms: list[dict[str, Any]], cpu: dict[str, Any]) -> tuple[list[str], bool]:
    by = {s["storm"]: s for s in storms}
    one, both = by.get("single"), by.get("cluster")
    if one is None or both is None:
        return ["Incomplete: a storm did not run."], False
    r = ratios(storms)
    failed_ok = both["failed"] <= TARGET_FAILED and one["failed"] <= TARGET_FAILED
    worst = max((v for p in ("p50", "p99") if (v := r[p]) is not None), default=None)
    # a cluster storm that relayed nobody measured one node twice
    ratio_ok = worst is not None and worst <= TARGET_RATIO and both["relayed"] > 0
    a, b = both["answer_to_joined_s"], one["answer_to_joined_s"]
    c = cpu_figures(cpu)
    lines = [
        f"Failures: cluster {both['failed']} of {both['expected']} did not join ({both['relayed']} "
        f"relayed), single node {one['failed']} of {one['expected']}; target {TARGET_FAILED}: "
        f"{'met' if failed_ok else 'MISSED'}.",
        f"Answer-to-joined, cluster / single node: p50 {a.get('p50')} / {b.get('p50')} s = {r['p50']}x, "
        f"p99 {a.get('p99')} / {b.get('p99')} s = {r['p99']}x (target <= {TARGET_RATIO}x: "
        f"{'met' if ratio_ok else 'MISSED'}; {both['relayed']} relayed callers p50 "
        f"{both['relayed_answer_to_joined_s'].get('p50')} s, local "
        f"{both['local_answer_to_joined_s'].get('p50')} s).",
        f"CPU per member, Asterisk ms per member per s over {cpu['window_s']:g} s with {cpu['members']} "
        f"members: relayed {c['relayed']} (its leg on the answering node {c['relayed_leg']} + mixed "
        f"on the host {cpu['ms_per_s']['relayed_member_on_host']}) against local {c['local']}: "
        f"{c['ratio']}x (no target; the baseline is the local member, same run).",
    ]
    ok = failed_ok and ratio_ok
    lines.append(f"Verdict: {'targets met' if ok else 'targets missed'}.")
    return lines, ok


def headline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "finished": report.get("finished"),
        "revision": report.get("revision"),
        "load_before": report.get("load_before"),
        **{
            s["storm"]: {
                "joined": s["joined"],
                "failed": s["failed"],
                "relayed": s["relayed"],
                "answer_to_joined_p50_s": s["answer_to_joined_s"].get("p50"),
                "answer_to_joined_p99_s": s["answer_to_joined_s"].get("p99"),
            }
            for s in report["storms"]
        },
        "ratios": ratios(report["storms"]),
        "cpu_ms_per_member_s": cpu_figures(report["cpu"]),
    }


def markdown(report: dict[str, Any]) -> str:
    m, v, a, cpu = report["machine"], report["versions"], report["args"], report["cpu"]
    c = cpu_figures(cpu)
    lines = [
        f"# Cluster benchmark, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; load "
        f"average {report['load_before']} before the run, {report['load_after']} after.  ",
        f"{v['asterisk']}; {v['sipp']}; Python {v['python']}.  ",
        f"Code: {report['revision']}. Command: `{report['command']}` ({report['seconds']:.0f} s in all).",
        "",
        "## What runs",
        "",
        "One cluster (tests/support/cluster.py): PostgreSQL, 2 Asterisk nodes each with its controller "
        "(`dialconf serve`), Kamailio in front, all on loopback. The storm of bench/storm_bench.py "
        f"(SIPp, RFC 2833: 1, conference number #, PIN #, name #; {a['calls']} callers within "
        f"{a['seconds']:g} s into {a['conferences']} conferences, each holding {a['hold']:g} s after its "
        "last key) runs twice: **single**, sent straight to node 1 (every caller answered and mixed "
        "there), then **cluster**, into fresh rooms through Kamailio's round robin (a caller answered "
        "on the node not mixing its conference is relayed to it over PJSIP). **answer** = Newstate Up "
        "of the caller's channel on the answering node, **joined** = ConfbridgeJoin with its caller "
        "number on whichever node (the host sets a relayed leg's from the ticket); every node's AMI "
        "stamped by the bench's one clock.",
        "",
        f"**CPU**: an idle window ({cpu['idle_window_s']:g} s) on both nodes, then an anchor caller opens "
        f"a conference (host: {cpu['host']}). {cpu['members']} callers sent straight to {cpu['relayer']} "
        f"are relayed to the host and held over {cpu['window_s']:g} s; they leave, and {cpu['members']} "
        f"callers sent straight to the host join locally, over {cpu['window_s']:g} s. Each node's Asterisk "
        "CPU (/proc) less its idle rate, per member (the host mixes the anchor too) per second.",
        "",
        "## Results",
        "",
        "| storm | sent to | joined / expected | failed | relayed | answered on | answer-to-joined "
        "p50 / p90 / p99 / max s | relayed p50 / p99 s | local p50 / p99 s | Asterisk CPU s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["storms"]:
        lines.append(
            f"| {s['storm']} | {s['target']} | {s['joined']} / {s['expected']} | {s['failed']} | "
            f"{s['relayed']} | {s['answered_on']} | "
            f"{cell(s['answer_to_joined_s'], 'p50', 'p90', 'p99', 'max')} | "
            f"{cell(s['relayed_answer_to_joined_s'], 'p50', 'p99')} | "
            f"{cell(s['local_answer_to_joined_s'], 'p50', 'p99')} | {s['asterisk_cpu_s']} | {s['wall_s']} |"
        )
    r = ratios(report["storms"])
    lines += [
        "",
        f"Ratio cluster / single node: p50 {r.get('p50')}x, p90 {r.get('p90')}x, p99 {r.get('p99')}x.",
        "",
    ]
    lines += [
        "| CPU, Asterisk ms per member per s | figure | baseline (local member, same run) |",
        "|---|---|---|",
        f"| local member (answered and mixed on the host) | {c['local']} | - |",
        f"| relayed member: its leg on the answering node | {c['relayed_leg']} | {c['local']} |",
        f"| relayed member: mixed on the host | {cpu['ms_per_s']['relayed_member_on_host']} | {c['local']} |",
        f"| relayed member, both nodes | {c['relayed']} ({c['ratio']}x) | {c['local']} |",
        "",
        f"Raw CPU s: idle {cpu['idle_cpu_s']}, relayed window {cpu['relayed']['cpu_s']} "
        f"({cpu['relayed']['relayed']} of {cpu['relayed']['joined']} relayed), local window "
        f"{cpu['local']['cpu_s']} ({cpu['local']['relayed']} of {cpu['local']['joined']} relayed).",
    ]
    for s in report["storms"]:
        if s["sipp"]["errors"]:
            lines.append(
                f"- {s['storm']}: SIPp errors (first lines): {[e[:300] for e in s['sipp']['errors']]}"
            )
    lines += ["", "## Verdict", "", *[f"- {ln}" for ln in report["verdict"]], ""]
    if report.get("earlier_runs"):
        lines += ["## Earlier runs today", "", *[f"- {json.dumps(e)}" for e in report["earlier_runs"]], ""]
    return "\n".join(lines)
