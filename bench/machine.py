"""What a benchmark report says about where it ran: machine, load, versions, code revision.

Every benchmark uses it. Also CPU time readers for a process and for reaped children.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
from typing import Any


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(kb / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        # The results this very run writes are not a change to the code it measured.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!bench/results"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def own_cpu_seconds() -> float:
    """User + system CPU of this process, every thread included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu_seconds() -> float:
    """User + system CPU of this process's children that have exited and been waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (all threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
