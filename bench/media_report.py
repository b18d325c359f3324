"""The media benchmark's report: members at 50 %, the verdict, markdown, versions."""

from __future__ import annotations

import itertools
import json
import platform
import shutil
import subprocess
from typing import Any

TARGET_MEMBERS = 250
CONTROLLER_MAX_PCT = 5.0


def members_at(steps: list[dict[str, Any]], idle: float, threshold: float) -> dict[str, Any]:
    """Members when Asterisk reaches ``threshold`` % of the machine: interpolated between the
    two steps that bracket it; otherwise extrapolated from the last step (and said so)."""
    points = [(0, idle)] + [(s["members"], s["asterisk_pct"]) for s in steps]
    for (n0, c0), (n1, c1) in itertools.pairwise(points):
        if c0 < threshold <= c1:
            n = n0 + (threshold - c0) * (n1 - n0) / (c1 - c0)
            how = "interpolated" if n0 else "interpolated from idle (first step already past)"
            return {"members": round(n), "how": how, "bracket": [n0, n1]}
    if not steps:
        return {"members": None, "how": "no step"}
    last = points[-1]
    slope = (last[1] - idle) / last[0] if last[0] else 0
    if slope <= 0:
        return {"members": None, "how": "no load measured"}
    return {"members": round(last[0] + (threshold - last[1]) / slope), "how": f"extrapolated past {last[0]}"}


def nearest(steps: list[dict[str, Any]], members: int | None) -> dict[str, Any] | None:
    if not steps or members is None:
        return None
    return min(steps, key=lambda s: abs(s["members"] - members))


def verdict(layouts: list[dict[str, Any]], threshold: float) -> tuple[list[str], bool]:
    """One line per layout against the targets: >= 250 members at <= 50 %, controller <= 5 %."""
    lines, ok = [], True
    for lay in layouts:
        at = lay["members_at_50"]
        step = nearest(lay["steps"], at["members"])
        ctl = step["controller_pct"] if step else None
        n = at["members"]
        members_ok = n is not None and n >= TARGET_MEMBERS
        ctl_ok = ctl is not None and ctl <= CONTROLLER_MAX_PCT
        ok = ok and members_ok and ctl_ok
        saturated = sum(1 for s in lay["steps"] if s.get("saturated"))
        caveat = (
            f" ({saturated} of {len(lay['steps'])} steps sampled on a saturated machine: Asterisk may "
            "have had less CPU than it needed, so its figure is a floor and the members an upper bound)"
            if saturated
            else ""
        )
        lines.append(
            f"{lay['variant']} (mixing {lay['mixing_interval_ms']} ms, dsp_drop_silence "
            f"{'yes' if lay['dsp_drop_silence'] else 'no'}), {lay['conferences']} conference(s): "
            f"{n} members at {threshold:g} % ({at['how']}) - target {TARGET_MEMBERS}: "
            f"{'met' if members_ok else 'MISSED'}; controller {ctl} % of the machine there "
            f"(target <= {CONTROLLER_MAX_PCT:g}): {'met' if ctl_ok else 'MISSED'}{caveat}"
        )
    return lines, ok


def _version(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return "not installed"
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = (out.stdout + out.stderr).strip()
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "unknown")


def versions(asterisk: str) -> dict[str, str]:
    return {"python": platform.python_version(), "asterisk": asterisk, "sipp": _version(["sipp", "-v"])}


def headline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "finished": report.get("finished"),
        "load_before": report.get("load_before"),
        "members_at_50": {
            f"{lay['variant']} x{lay['conferences']}": lay["members_at_50"]["members"]
            for lay in report["layouts"]
        },
    }


def _table(lay: dict[str, Any]) -> list[str]:
    out = [
        "| members | wanted | conferences | joined in s | Asterisk % | controller % "
        "| controller / Asterisk % | SIPp % | machine busy % | others % | Asterisk % per 100 members "
        "| Asterisk RSS MiB / threads |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    idle = lay["idle"]
    out.append(
        f"| 0 (idle) | - | {lay['conferences']} | - | {idle['asterisk_pct']} "
        f"| {idle['controller_pct']} | - | - "
        f"| {idle['machine_busy_pct']} | {idle['others_pct']} | - "
        f"| {idle['asterisk_rss_mib']} / {idle['asterisk_threads']} |"
    )
    for s in lay["steps"]:
        per100 = round(s["asterisk_pct"] / s["members"] * 100, 2) if s["members"] else "-"
        out.append(
            f"| {s['members']} | {s['target']} | {s['conferences']} | {s['join_s']} | {s['asterisk_pct']} "
            f"| {s['controller_pct']} | {s['controller_share_of_asterisk_pct']} | {s['sipp_pct']} "
            f"| {s['machine_busy_pct']}{' (saturated)' if s.get('saturated') else ''} "
            f"| {s['others_pct']} | {per100} | {s['asterisk_rss_mib']} / {s['asterisk_threads']} |"
        )
    return out


def markdown(report: dict[str, Any]) -> str:
    m, v, a = report["machine"], report["versions"], report["args"]
    lines = [
        f"# Media capacity benchmark, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
        f"load average {report['load_before']} before the run, {report['load_after']} after "
        "(other work on the machine competes for the CPUs: see *others %*).  ",
        f"Asterisk {v['asterisk']}, {v['sipp']}, Python {v['python']}.  ",
        f"Code: {report['revision']}. Command: `{report['command']}` ({report['seconds']:.0f} s in all, "
        f"finished {report['finished']}).",
        "",
        "## What runs",
        "",
        "- **System under test**: `python -m conference_ivr run` (what `make run` starts): Asterisk with the "
        "project's rendered configuration, the controller (FastAGI journey, AMI follower, live state, "
        "usage recorder, booking API) in one process. Isolated ports; RTP range "
        f"{a['rtp_start']}-{a['rtp_start'] + a['rtp_ports']}; booking limits raised so a room holds "
        "the ceiling.",
        "- **Members**: SIPp (one process per conference) calls the access number over PJSIP/UDP on "
        "loopback and joins through the real IVR: 1, conference number #, PIN #, # to skip the name "
        f"recording. Then it sends PCMU every 20 ms until hung up: the first {a['talkers']} calls of each "
        "conference speech-like talk spurts (about -20 dBFS, 1-3 s on, 0.3-1 s off), all others a quiet "
        "line (about -60 dBFS noise).",
        f"- **Ramp**: members added in steps (first {a['first']} in every layout, where the curve starts; "
        "then along the last slope, or to 85 % of where the previous layout reached 50 %, past 50 % "
        "once within reach), "
        f"spread evenly over the conferences; each step waits for the joins, settles {a['settle']:g} s and "
        f"samples CPU for {a['sample']:g} s from /proc (utime + stime, every thread). Stops past 50 %, at "
        f"{a['ceiling']} members, after {a['max_steps']} steps or when the layout's share of the run's "
        f"{a['seconds']:g} s is up.",
        "- **CPU %** is of the whole machine (all CPUs): 50 % is one core of two. **controller** is the "
        "`run` process; **SIPp** the load generator; **others** everything else that ran (other benches, "
        "the kernel's own work not charged to a process).",
        "- Each join also plays ConfBridge's join tone into its conference (0.4 s, one after another), so "
        "right after a step's joins the conference has one more sound source for a while.",
        "- **wanted**: calls SIPp keeps open for the step; those not in a conference at the sample "
        "were still in (or failed) the IVR: a key lost to a busy machine leaves a call keying nothing "
        "into the next prompt until it gives up (a replacement call starts then).",
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in report["verdict"]],
        "",
    ]
    for lay in report["layouts"]:
        at = lay["members_at_50"]
        lines += [
            f"## {lay['variant']}: mixing_interval {lay['mixing_interval_ms']} ms, dsp_drop_silence "
            f"{'yes' if lay['dsp_drop_silence'] else 'no'}; {lay['conferences']} conference(s)",
            "",
            f"Members at 50 %: **{at['members']}** ({at['how']}). Calls joined: {lay['calls_joined']}; "
            f"members ConfBridge heard talking: {lay.get('members_heard_talking')} (the talkers: "
            f"{report['args']['talkers']} per conference); {lay['seconds']:g} s.",
            "",
            *_table(lay),
            "",
        ]
    png = f"{report['args'].get('name', 'media')}-{report['date']}.png"
    lines += [f"![Asterisk's CPU by members, and per member]({png})", ""]
    warnings = report.get("asterisk_warnings") or {}
    lines += [
        "## Logs",
        "",
        f"Controller error lines: {report['controller_error_lines']}. Asterisk warnings/errors by origin "
        "(count, first message): "
        + ("; ".join(f"{k}: {w['count']} ({w['first']})" for k, w in sorted(warnings.items())) or "none")
        + ".",
        "",
    ]
    if report.get("earlier_runs"):
        lines += ["## Earlier runs today", ""]
        lines += [f"- {json.dumps(r)}" for r in report["earlier_runs"]]
        lines.append("")
    return "\n".join(lines)
