"""The join-storm benchmark's report: versions, the ratio to the floor, the verdict, the markdown."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from typing import Any

TARGET_FAILED = 0
TARGET_RATIO = 1.2  # controller answer-to-joined (minus prompt audio) / the floor's


def versions() -> dict[str, str]:
    try:
        out = subprocess.run(["sipp", "-v"], capture_output=True, text=True, timeout=10, check=False).stdout
        sipp = next((ln.strip() for ln in out.splitlines() if "SIPp" in ln), "unknown")
    except OSError:
        sipp = "not installed"
    return {"python": platform.python_version(), "sipp": sipp}


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def ratios(storms: list[dict[str, Any]]) -> dict[str, Any]:
    by = {s["storm"]: s for s in storms}
    ctl, floor = by.get("controller"), by.get("floor")
    if ctl is None or floor is None:
        return {}
    out: dict[str, Any] = {}
    for key, label in (
        ("answer_to_joined_minus_prompt_s", "answer_to_joined_minus_prompt"),
        ("system_after_pin_ms", "system_after_pin"),
        ("arrival_to_answer_ms", "arrival_to_answer"),
    ):
        out[label] = {p: _ratio(ctl[key].get(p), floor[key].get(p)) for p in ("p50", "p90", "p99")}
    return out


def verdict(storms: list[dict[str, Any]]) -> tuple[list[str], bool]:
    by = {s["storm"]: s for s in storms}
    ctl, floor = by.get("controller"), by.get("floor")
    if ctl is None or floor is None:
        return ["Incomplete: a storm did not run."], False
    r = ratios(storms)
    main = r["answer_to_joined_minus_prompt"]
    worst = max((v for v in main.values() if v is not None), default=None)
    failed_ok = ctl["failed"] <= TARGET_FAILED
    ratio_ok = worst is not None and worst <= TARGET_RATIO

    def x(v: float | None) -> str:
        return f"{v}x" if v is not None else "n/a"

    lines = [
        f"Failures: controller {ctl['failed']} of {ctl['expected']} did not join (floor: "
        f"{floor['failed']}); target {TARGET_FAILED}: {'met' if failed_ok else 'MISSED'}.",
        f"Answer-to-joined minus prompt audio, controller / floor: p50 {x(main['p50'])}, p90 "
        f"{x(main['p90'])}, p99 {x(main['p99'])} (target <= {TARGET_RATIO}x: "
        f"{'met' if ratio_ok else 'MISSED'}; over the calls that joined).",
    ]
    own = r["system_after_pin"]
    c, f = ctl["system_after_pin_ms"], floor["system_after_pin_ms"]
    lines.append(
        f"The systems' own time after the PIN (prompt audio and name recording out): controller "
        f"p50 {c.get('p50')} / p99 {c.get('p99')} ms, floor {f.get('p50')} / {f.get('p99')} ms "
        f"({x(own['p50'])} / {x(own['p99'])}); in the ratio above the caller's keying up to the PIN "
        f"(~{floor['answer_to_joined_minus_prompt_s'].get('min')} s) dominates."
    )
    lines.append(
        f"CPU over the controller storm: controller {ctl['cpu_s']['controller']} s "
        f"({ctl['cpu_pct_of_machine']['controller']}% of the machine; it waited "
        f"{ctl['controller_runqueue_wait_s']} s for a CPU), Asterisk {ctl['cpu_s']['asterisk']} s "
        f"({ctl['cpu_pct_of_machine']['asterisk']}%). Floor storm: Asterisk {floor['cpu_s']['asterisk']} s "
        f"({floor['cpu_pct_of_machine']['asterisk']}%), controller {floor['cpu_s']['controller']} s "
        "(no AGI: its AMI connection still reads the call-class events of the floor's calls, "
        "conference_ivr.pbx.names.CONTROLLER_AMI_EVENTS)."
    )
    if not failed_ok:
        m = ctl.get("controller_metrics", {})
        steps = {k.split('"')[1]: v for k, v in m.items() if k.startswith("step mean ms")}
        reasons = {k.split('"')[1]: v for k, v in m.items() if k.startswith("dialconf_join_failures_total")}
        lines.append(
            f"Why calls failed: the controller's mean time deciding a step was {steps} ms against the "
            "caller's 1 s pause before its next keys; keys sent while the controller is still deciding "
            "are lost (between AGI commands nobody reads them), so the journey then waits for digits "
            f"until the caller's script ends (controller's failure reasons: {reasons}). Its threads "
            f"waited {ctl['controller_runqueue_wait_s']} s for a CPU while running "
            f"{ctl['cpu_s']['controller']} s: it was starved (load average {ctl['load_before'].split()[0]} "
            f"-> {ctl['load_after'].split()[0]} on {os.cpu_count()} CPUs)."
        )
    ok = failed_ok and ratio_ok
    lines.append(f"Verdict: {'targets met' if ok else 'targets missed'}.")
    return lines, ok


def headline(report: dict[str, Any]) -> dict[str, Any]:
    by = {s["storm"]: s for s in report["storms"]}
    return {
        "finished": report.get("finished"),
        "revision": report.get("revision"),
        "load_before": report.get("load_before"),
        **{
            name: {
                "joined": s["joined"],
                "failed": s["failed"],
                "answer_to_joined_p50_s": s["answer_to_joined_s"].get("p50"),
                "answer_to_joined_p99_s": s["answer_to_joined_s"].get("p99"),
                "system_after_pin_p50_ms": s["system_after_pin_ms"].get("p50"),
                "system_after_pin_p99_ms": s["system_after_pin_ms"].get("p99"),
                "cpu_s": s["cpu_s"],
            }
            for name, s in by.items()
        },
        "ratios": ratios(report["storms"]),
    }


def cell(s: dict[str, Any], *keys: str) -> str:
    return " / ".join(str(s.get(k, "-")) for k in keys) if s.get("n") else "-"


def markdown(report: dict[str, Any]) -> str:
    m, v, a = report["machine"], report["versions"], report["args"]
    storms = report["storms"]
    lines = [
        f"# Join-storm benchmark, {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; load "
        f"average {report['load_before']} before the run, {report['load_after']} after (other work on "
        "the machine competes for the CPUs; each storm's own load is in the JSON).  ",
        f"{v['asterisk']}; {v['sipp']}; Python {v['python']}.  ",
        f"Code: {report['revision']}. Command: `{report['command']}` ({report['seconds']:.0f} s in all).",
        "",
        "## What runs",
        "",
        "- **System under test**: `python -m conference_ivr run` (what `make run` starts: Asterisk, the "
        "controller with its FastAGI journey, the booking store on SQLite, the API), isolated ports, "
        f"{a['conferences']} anytime rooms of 30 seats booked beforehand. Callers dial **8000**: greeting, "
        '1, conference number #, PIN # (the controller checks it), "say your name", tone, the name '
        'recording ended by #, "you will now be placed into the conference", ConfBridge.',
        "- **Floor**: **8999** in the same Asterisk, added to the instance's rendered config and "
        "reloaded, no AGI, no controller: Answer, Read the 1 and the conference number (the same "
        "prompts), ConfBridge with a user profile holding a fixed `pin=` (ConfBridge's own PIN "
        "prompt and check), otherwise the controller's participant profile. No name recording: "
        "ConfBridge's own (`announce_join_leave`) holds each joiner while the others' names are "
        "played (seen: 2-6 s a joiner), which no floor should; the floor caller's last # lands in "
        "the conference.",
        f"- **Callers**: SIPp over PJSIP/UDP on 127.0.0.1, RFC 2833 DTMF from Debian's pcaps (renumbered). "
        f"One SIPp per conference (a pcap cannot change per call), {a['calls']} callers a storm arriving "
        f"evenly within {a['seconds']:g} s, each with its own caller number. Every caller keys the same "
        "steps at the same times in both storms: 2.5 s after the answer 1, 1 s later the conference "
        "number and #, 1 s later the PIN and #, 5 s later # (ends the name recording), then holds "
        f"{a['hold']:g} s in the conference and sends BYE. The controller storm runs first, the calls "
        "drain, then the floor storm, on one running system.",
        "",
        "**answer** = Newstate Up on the bench's own AMI connection (Asterisk's 200 OK, which starts "
        "the SIPp caller's script), **joined** = ConfbridgeJoin, **arrival** = Newchannel (the "
        "INVITE); stamped on arrival in the bench. A call that never joined is a failure. After the "
        "PIN's # (the last key both journeys share) the instance's Asterisk log (its own ms clock) "
        "splits each call's time until the join into **prompt audio** (every sound played to the "
        'caller, none of which can be keyed over: the controller\'s "say your name", the tone and '
        '"you will now be placed into the conference"; ConfBridge\'s "you are the only person" '
        "for a first member in both), the **name window** (tone end to the # that ends the name "
        "recording: the caller speaking, caller time) and the **system**'s own time (the rest). "
        "**Answer-to-joined minus prompt audio** = answer-to-joined - prompt audio - name window: "
        "the caller's keying up to the PIN (prompts before it are keyed over; the same script in both "
        "storms) plus the system's time.",
        "",
        "## Results",
        "",
        "| storm | joined / expected | failed | SIPp ok / failed | answer-to-joined p50 / p90 / p99 / max s "
        "| minus prompt audio p50 / p90 / p99 s | after the PIN p50 / p99 s: all, prompt audio, name "
        "window | system after the PIN p50 / p90 / p99 / max ms | arrival to answer p50 / p99 ms "
        "| CPU s controller / Asterisk / SIPp | % of machine controller / Asterisk | controller waited "
        "for a CPU s | wall s | load before / after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in storms:
        lines.append(
            f"| {s['storm']} ({s['service']}) | {s['joined']} / {s['expected']} | {s['failed']} | "
            f"{s['sipp']['successful']} / {s['sipp']['failed']} | "
            f"{cell(s['answer_to_joined_s'], 'p50', 'p90', 'p99', 'max')} | "
            f"{cell(s['answer_to_joined_minus_prompt_s'], 'p50', 'p90', 'p99')} | "
            f"{cell(s['after_pin_s'], 'p50', 'p99')}, {cell(s['prompt_after_pin_s'], 'p50', 'p99')}, "
            f"{cell(s['name_window_s'], 'p50', 'p99')} | "
            f"{cell(s['system_after_pin_ms'], 'p50', 'p90', 'p99', 'max')} | "
            f"{cell(s['arrival_to_answer_ms'], 'p50', 'p99')} | {s['cpu_s']['controller']} / "
            f"{s['cpu_s']['asterisk']} / {s['cpu_s']['sipp']} | {s['cpu_pct_of_machine']['controller']} / "
            f"{s['cpu_pct_of_machine']['asterisk']} | {s['controller_runqueue_wait_s']} | {s['wall_s']} | "
            f"{s['load_before'].split()[0]} / {s['load_after'].split()[0]} |"
        )
    lines += ["", "SIPp counts a call successful when its script ran to the end (its BYE answered), "
              "whether or not it joined: the joins are counted from ConfbridgeJoin."]  # fmt: skip
    lines += ["", "System after the PIN, by part, p50 / p99 ms (the PIN's # to the first sound: the PIN "
              "check; the name's # to the next sound; the last sound's end to the join):", ""]  # fmt: skip
    for s in storms:
        parts = s["system_parts_ms"]
        lines.append(f"- {s['storm']}: " + "; ".join(f"{k.replace('_', ' ')} {cell(v, 'p50', 'p99')}"
                                                     for k, v in parts.items()))  # fmt: skip
    lines += ["", "The controller's own counters over each storm (its /metrics):", ""]
    for s in storms:
        lines.append(f"- {s['storm']}: {s['controller_metrics'] or 'nothing'}")
    lines += ["", "AMI events of the classes call and dtmf on the bench's connection (the controller's "
              "asks for system, call and user), total and most frequent:", ""]  # fmt: skip
    for s in storms:
        lines.append(f"- {s['storm']}: {s['ami_events_call_dtmf_total']}: {s['ami_events_call_dtmf']}")
    lines += ["", "Sounds after the PIN (most common sequences):", ""]
    for s in storms:
        lines.append(f"- {s['storm']}: {s['sounds_after_pin']}")
    lines += ["", "Ratios controller / floor:", ""]
    for label, vals in ratios(storms).items():
        lines.append(
            f"- {label.replace('_', ' ')}: "
            + ", ".join(f"{k} {x}x" if x is not None else f"{k} n/a" for k, x in vals.items())
        )
    for s in storms:
        if s["not_joined_causes"] or s["sipp"]["errors"]:
            lines.append(f"- {s['storm']}: not joined by hangup cause {s['not_joined_causes']}; SIPp errors "
                         f"(first lines): {[e[:300] for e in s['sipp']['errors']]}")  # fmt: skip
    lines += ["", "## Verdict", "", *[f"- {ln}" for ln in report["verdict"]], ""]
    if report.get("earlier_runs"):
        lines += ["## Earlier runs today", ""]
        for e in report["earlier_runs"]:
            lines.append(f"- {json.dumps(e)}")
        lines.append("")
    return "\n".join(lines)
