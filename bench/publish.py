"""What every benchmark's results file holds besides its figures, and how it is written.

``run_facts``: when, where and how the run was made (date, revision, command, machine, load,
arguments). ``publish``: bench/results/<name>-<date>.json and .md, carrying the headlines of
the day's earlier runs the file replaces, then the verdict on the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import git_revision, loadavg, machine

Report = dict[str, Any]


def run_facts(
    module: str, argv: list[str] | None, args: argparse.Namespace, began: float, load_before: str
) -> Report:
    """``began``: time.monotonic() at the start; ``load_before``: loadavg() then."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "revision": git_revision(),
        "command": (
            "make bench"
            if argv is None and os.environ.get("MAKELEVEL")
            else " ".join([f"python -m {module}", *(sys.argv[1:] if argv is None else argv)])
        ),
        "seconds": round(time.monotonic() - began, 1),
        "load_before": load_before,
        "load_after": loadavg(),
        "finished": datetime.now(UTC).strftime("%H:%M UTC"),
        "machine": machine(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }


def earlier_runs(path: Path, headline: Callable[[Report], Report], keep: int = 5) -> list[Report]:
    """The headlines of today's earlier runs, from the results file this run replaces."""
    try:
        old = json.loads(path.read_text())
        return [*old.get("earlier_runs", []), headline(old)][-keep:]
    except (OSError, ValueError, KeyError):
        return []


def publish(
    out: Path,
    name: str,
    report: Report,
    markdown: Callable[[Report], str],
    log: Callable[[str], None],
    headline: Callable[[Report], Report] | None = None,
) -> Path:
    """Write <out>/<name>-<date>.json and .md; log the verdict lines. The .md's path."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{name}-{report['date']}"
    if headline is not None:
        report["earlier_runs"] = earlier_runs(stem.with_suffix(".json"), headline)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    log("")
    for line in report.get("verdict", []):
        log(line)
    log(f"written: {stem.with_suffix('.md')} (.json); {report['seconds']:.0f} s in all")
    return stem.with_suffix(".md")
