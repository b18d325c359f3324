"""The journey benchmark's figures: per language and kind of caller, answer to join and what it
went on (median over the callers), the verdict against the targets, Markdown and the plot."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.journey_caller import Journey

TARGETS_S = {"first time": 20.0, "returning": 12.0, "typing ahead": 8.0}
PARTS = ("prompt_s", "keying_s", "recording_s", "system_s")
PART_NAMES = {"prompt_s": "prompt audio", "keying_s": "the caller keying", "recording_s": "name recording",
              "system_s": "the system"}  # fmt: skip


def summarise(
    journeys: list[Journey], languages: Sequence[str], kinds: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per (language, kind): the calls, how many joined, the median of each part."""
    rows = []
    for lang in languages:
        for kind in kinds:
            mine = [j for j in journeys if j.language == lang and j.kind == kind]
            splits = [s for j in mine if (s := j.split()) is not None]
            row: dict[str, Any] = {"language": lang, "kind": kind, "calls": len(mine), "joined": len(splits)}
            row["failed"] = sorted({j.failed for j in mine if j.failed})
            for key in ("total_s", *PARTS):
                row[key] = round(statistics.median(s[key] for s in splits), 2) if splits else None
            row["max_total_s"] = max((s["total_s"] for s in splits), default=None)
            rows.append(row)
    return rows


def keying_floor(keys: int, key_s: float) -> str:
    return f"the {keys} keys alone (1, the number and #, the PIN and #) take {keys * key_s:.1f} s"


def verdict(rows: list[dict[str, Any]], keys: int, key_s: float) -> tuple[list[str], bool]:
    """Each target met or not, and where missed: the longest part, and the floor the keys set
    (a target under it is out of reach at this pace with these code lengths)."""
    lines, ok = [], True
    floor = keys * key_s
    for kind, target in TARGETS_S.items():
        mine = [r for r in rows if r["kind"] == kind]
        missed = [
            r for r in mine if r["total_s"] is None or r["total_s"] > target or r["joined"] < r["calls"]
        ]
        ok = ok and not missed
        worst = max(mine, key=lambda r: r["total_s"] if r["total_s"] is not None else 1e9)
        biggest = max(PARTS, key=lambda p: worst.get(p) or 0)
        lines.append(
            f"{kind}: answer to join (median) "
            + ", ".join(f"{r['language']} {r['total_s']} s" for r in mine)
            + f" - target <= {target:g} s in every language: {'met' if not missed else 'MISSED'}"
            + (
                f" ({', '.join(r['language'] for r in missed)}; the longest, {worst['language']}: "
                f"{PART_NAMES[biggest]} {worst.get(biggest)} s of {worst['total_s']} s; "
                f"{keying_floor(keys, key_s)}"
                + (
                    ": out of reach at this pace with these code lengths)"
                    if floor >= target
                    else f", leaving {target - floor:.1f} s for every prompt and the name)"
                )
                if missed
                else ""
            )
        )
    return lines, ok


def headline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "finished": report.get("finished"),
        "load_before": report.get("load_before"),
        "total_s": {f"{r['language']} {r['kind']}": r["total_s"] for r in report["rows"]},
    }


def markdown(report: dict[str, Any]) -> str:
    m, a = report["machine"], report["args"]
    lines = [
        f"# Caller journey benchmark, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; load average "
        f"{report['load_before']} before the run, {report['load_after']} after.  ",
        f"Asterisk {report['asterisk']}. Code: {report['revision']}. Command: `{report['command']}` "
        f"({report['seconds']:.0f} s in all, finished {report['finished']}).",
        "",
        "## What runs",
        "",
        "- `python -m conference_ivr run` (what `make run` starts), one access number per language "
        "(the caller hears its language from the first prompt), one anytime room per language.",
        f"- Callers: Local channels driven over AMI at human pace: keys {a['key_s']:g} s apart, a "
        f"{a['pause_s']:g} s pause before answering a prompt heard to its end, a {a['name_s']:g} s name "
        "(the recording ends on the silence after it). **first time** listens to every prompt and says its "
        "name; **returning** calls again from the same number (the name is known); **typing ahead** is "
        f"returning and keys as soon as each prompt starts. The number's prompt asks for the number and "
        "the PIN in one go, so every kind keys both on (the PIN's own prompt, after a second's pause, "
        f"is not heard). {a['callers']} callers of each kind per language at once.",
        "- **answer to join**: the IVR's ANSWER to ConfbridgeJoin (AMI events on loopback). "
        "**prompt audio**: each played file's own length, cut at the caller's first key; "
        "**keying**: the caller's time after a prompt to its last key; "
        "**name recording**: the RECORD FILE command (tone, name, silence); "
        "**system**: the rest (lookups, AGI round trips, joining). Medians over the callers.",
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in report["verdict"]],
        "",
        "## Per language and kind",
        "",
        "| language | kind | joined | answer to join s | prompt audio s | keying s | name recording s "
        "| system s | slowest s | target s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['language']} | {r['kind']} | {r['joined']}/{r['calls']} | {r['total_s']} "
            f"| {r['prompt_s']} | {r['keying_s']} | {r['recording_s']} | {r['system_s']} "
            f"| {r['max_total_s']} "
            f"| {TARGETS_S[r['kind']]:g} |"
        )
    failed = [f"{r['language']} {r['kind']}: {', '.join(r['failed'])}" for r in report["rows"] if r["failed"]]
    lines += ["", f"Failed journeys: {'; '.join(failed) or 'none'}.", ""]
    lines += [f"![answer to join by language and kind]({report['args']['name']}-{report['date']}.png)", ""]
    if report.get("earlier_runs"):
        lines += ["## Earlier runs today", "", *[f"- {json.dumps(r)}" for r in report["earlier_runs"]], ""]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """A stacked bar per (language, kind), the kinds' targets as dashed lines."""
    drawn = [r for r in rows if r["total_s"] is not None]
    if not drawn:
        return None
    import matplotlib  # only when plotting

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.6))
    labels = [f"{r['language']}\n{r['kind']}" for r in drawn]
    bottom = [0.0] * len(drawn)
    for part in PARTS:
        heights = [r[part] or 0.0 for r in drawn]
        ax.bar(labels, heights, bottom=bottom, label=PART_NAMES[part])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for i, r in enumerate(drawn):
        target = TARGETS_S[r["kind"]]
        ax.hlines(target, i - 0.4, i + 0.4, colors="black", linestyles="dashed", linewidth=1)
    ax.set_ylabel("seconds from answer to join (median)")
    ax.set_title(f"{title} (dashed: each kind's target)", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
