"""The placement simulation's figures, markdown and verdict: each variant's balance (max node
load over the mean, over the busy samples), relayed fraction, claims and follows, and the
re-placement after the node loss, the rule beside its baselines from the same run."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.placement_replay import Replay

TARGET_RATIO = 1.2  # issue 21: max node load over the mean, at most
FULL_FRACTION = 0.5  # the samples of a well-filled cluster: the mean at least half the seats
AFTER_LOSS_S = 600.0  # the window after the loss whose worst balance is reported

LABEL = {
    "rule": "the placement rule (booking/domain/placement.py): claims by expected fill, booked seats counted",
    "first_caller": "the rule before: the answering node claims while it has room",
    "no_in_flight": "the rule, loads without the placements in flight",
    "answering_node": "no affinity: every member on its answering node",
    "least_booked": "alternative: every claim on the live node with the fewest booked seats",
    "least_filled": "alternative: every claim on the least-filled live node",
    "least_filled_no_in_flight": "the same, loads without the placements in flight",
}


def _q(values: list[float], q: float) -> float:
    return round(float(np.quantile(values, q)), 3) if values else float("nan")


def summary(r: Replay, seats: int, busy_fraction: float) -> dict[str, Any]:
    busy = [(t, mx / mean, mx) for t, mx, mean, _ in r.samples if mean >= busy_fraction * seats]
    ratios = [x for _, x, _ in busy]
    full = [mx / mean for _, mx, mean, _ in r.samples if mean >= FULL_FRACTION * seats]
    fills = [mx / seats for _, _, mx in busy]
    out: dict[str, Any] = {
        "variant": r.variant,
        "placements": r.placements,
        "relayed_fraction": round(r.relayed / r.placements, 4) if r.placements else 0.0,
        "claims": r.claims,
        "follows": r.follows,
        "split_conferences": len(r.split_conferences),
        "over_seats_placements": r.over_seats_placements,
        "samples": len(r.samples),
        "busy_samples": len(busy),
        "ratio": {"p50": _q(ratios, 0.5), "p99": _q(ratios, 0.99), "max": _q(ratios, 1.0)},
        "full_samples": len(full),
        "ratio_full": {"p50": _q(full, 0.5), "p99": _q(full, 0.99), "max": _q(full, 1.0)},
        "max_fill": {"p50": _q(fills, 0.5), "p99": _q(fills, 0.99), "max": _q(fills, 1.0)},
        "peak_members": max((round(mean * live) for _, _, mean, live in r.samples), default=0),
        "left_on_dead_node": r.left_on_dead_node,
    }
    if r.kill:
        k = dict(r.kill)
        after: list[float] = k.pop("replaced_after_s")  # type: ignore[assignment]
        at = float(k["at"])  # type: ignore[arg-type]
        done = at + (max(after) if after else 0.0)
        later = [(t, mx / mean) for t, mx, mean, _ in r.samples if t >= at and mean > 0]
        first = next((x for t, x in later if t >= done), float("nan"))
        window = [x for t, x in later if t <= at + AFTER_LOSS_S]
        out["loss"] = {
            **k,
            "placed_again_s": {"p50": _q(after, 0.5), "p99": _q(after, 0.99), "max": _q(after, 1.0)},
            "ratio_once_placed": round(first, 3),
            "ratio_max_10min": round(max(window), 3) if window else float("nan"),
        }
    return out


def verdict(runs: dict[str, dict[str, Any]], busy_fraction: float) -> tuple[list[str], bool]:
    rule, lines, ok = runs["rule"], [], True
    others = [v for v in runs if v != "rule"]

    def beside(path: tuple[str, ...], form: str = "") -> str:
        parts = []
        for v in others:
            x: Any = runs[v]
            for key in path:
                x = x[key]
            parts.append(f"{v} {x:{form}}")
        return "; ".join(parts)

    p99 = rule["ratio"]["p99"]
    lines.append(
        f"max node load / mean, p99 over {rule['busy_samples']} busy samples (mean >= "
        f"{busy_fraction:.0%} of seats): {p99} (p50 {rule['ratio']['p50']}, max {rule['ratio']['max']}): "
        f"target <= {TARGET_RATIO} {'met' if p99 <= TARGET_RATIO else 'MISSED'} "
        f"(baselines: {beside(('ratio', 'p99'))})."
    )
    full = rule["ratio_full"]["p99"]
    lines.append(
        f"the same over {rule['full_samples']} well-filled samples (mean >= {FULL_FRACTION:.0%} of seats): "
        f"p99 {full} (p50 {rule['ratio_full']['p50']}): target <= {TARGET_RATIO} "
        f"{'met' if full <= TARGET_RATIO else 'MISSED'} (baselines: {beside(('ratio_full', 'p99'))})."
    )
    split = rule["split_conferences"]
    ok &= split == 0
    lines.append(
        f"conferences split over two nodes: {split}: target 0 {'met' if split == 0 else 'FAILED'} "
        f"(baselines: {beside(('split_conferences',), ',')})."
    )
    lines.append(
        f"relayed fraction of placements: {rule['relayed_fraction']:.1%}; claims {rule['claims']:,}, "
        f"follows {rule['follows']:,} (baselines: {beside(('relayed_fraction',), '.1%')}); no target."
    )
    lines.append(
        f"busiest node's fill, p99 {rule['max_fill']['p99']:.0%} of its seats, max "
        f"{rule['max_fill']['max']:.0%}; {rule['over_seats_placements']:,} placements onto a node "
        f"already at its seats (baselines: {beside(('over_seats_placements',), ',')})."
    )
    loss = rule.get("loss")
    if loss:
        left = rule["left_on_dead_node"]
        ok &= left == 0
        lines.append(
            f"node loss at the peak ({loss['node']}, {loss['members_before']} members): "
            f"{loss['affected']} callers affected ({loss['redialling']} redialling), "
            f"{loss['replaced']} placed again, the last after {loss['placed_again_s']['max']} s "
            f"(p50 {loss['placed_again_s']['p50']} s), {loss['gave_up']} hung up first; "
            f"{left} left on the dead node: target 0 {'met' if left == 0 else 'FAILED'}; max/mean once "
            f"all were placed {loss['ratio_once_placed']}, worst in the 10 minutes after "
            f"{loss['ratio_max_10min']} (baselines, last placed after: "
            f"{beside(('loss', 'placed_again_s', 'max'))} s)."
        )
    return lines, ok


def markdown(report: dict[str, Any]) -> str:
    m, a, month = report["machine"], report["args"], report["month"]
    lines = [
        f"# Placement simulation, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
        f"load average {report['load_before']} before the run, {report['load_after']} after.  ",
        f"Code: {report['revision']}. Command: `{report['command']}` ({report['seconds']:.0f} s in all; "
        f"the replays {report['replay_seconds']}).",
        "",
        "## The month",
        "",
        f"{a['days']} days from a Monday, seed {a['seed']} (bench/placement_load.py): "
        f"{month['conferences']:,} conferences ({month['non_standard']:,} non-standard, "
        f"{month['anytime']:,} anytime rooms), {month['members']:,} members, mean conference "
        f"{month['mean_size']:.1f} members; concurrent members peak at {month['peak_members']:,} "
        f"(day {month['peak_day']}, {month['peak_clock']}).",
        f"Replayed: {report['window']['label']}: {report['window']['members']:,} members, over "
        f"{a['nodes']} nodes of {a['seats']} seats ({a['nodes'] * a['seats']:,} in all).",
        "",
        "Each member is answered by the next live node in turn (Kamailio's dispatcher, round robin),",
        f"placed, in the IVR for {a['ivr_s']} s (in flight), then joined; a lease is held while its",
        f"conference has members and expires {a['lease_ttl_s']} s after it empties. At the peak the",
        "fullest node dies: its own callers redial after "
        f"{a['redial_s']} s and are answered elsewhere; the callers it relayed for a",
        f"survivor are placed again by that survivor once the dead node's lease and heartbeat have expired "
        f"({a['lease_ttl_s']} s).",
        f"A sample every {a['sample_s']} s: the live nodes' members (joined), max over mean; busy: the mean",
        f"at least {a['busy_fraction']:.0%} of a node's seats; well-filled: at least {FULL_FRACTION:.0%}. "
        "Fill: a node's members over its seats.",
        "",
        "| variant | busy samples | max/mean p50 | p99 | max | well-filled samples | p50 | p99 "
        "| busiest fill p99 | max | relayed | claims | follows | split conferences "
        "| placements onto a full node |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v, r in report["runs"].items():
        lines.append(
            f"| {v}: {LABEL[v]} | {r['busy_samples']} | {r['ratio']['p50']} | {r['ratio']['p99']} "
            f"| {r['ratio']['max']} | {r['full_samples']} | {r['ratio_full']['p50']} "
            f"| {r['ratio_full']['p99']} "
            f"| {r['max_fill']['p99']:.0%} | {r['max_fill']['max']:.0%} "
            f"| {r['relayed_fraction']:.1%} | {r['claims']:,} | {r['follows']:,} "
            f"| {r['split_conferences']:,} | {r['over_seats_placements']:,} |"
        )
    lines += [
        "",
        "## A node lost at the peak",
        "",
        "| variant | node | its members | callers affected | redialling | placed again | hung up first "
        "| held back new callers | placed again after p50 s | p99 s | max s | max/mean once placed "
        "| worst in 10 min | left on the dead node |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v, r in report["runs"].items():
        k = r.get("loss")
        if k:
            t = k["placed_again_s"]
            lines.append(
                f"| {v} | {k['node']} | {k['members_before']} | {k['affected']} | {k['redialling']} "
                f"| {k['replaced']} | {k['gave_up']} | {k.get('new_delayed', 0)} | {t['p50']} "
                f"| {t['p99']} | {t['max']} | {k['ratio_once_placed']} | {k['ratio_max_10min']} "
                f"| {r['left_on_dead_node']} |"
            )
    lines += [
        "",
        f"The plot: [{a['name']}-{report['date']}.png]({a['name']}-{report['date']}.png).",
        "",
        "## Verdict",
        "",
    ]
    lines += [f"- {x}" for x in report["verdict"]] + [""]
    return "\n".join(lines)
