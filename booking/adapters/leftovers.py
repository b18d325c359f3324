"""Children that outlived their parent: a process killed hard (kill -9) cannot stop its
Kannel, which keeps its ports. Each child's pid is kept in the instance directory; the next
start ends what is still running there before it starts its own."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def remember(directory: Path, name: str, pid: int) -> None:
    (directory / f"{name}.pid").write_text(f"{pid}\n")


def forget(directory: Path, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (directory / f"{name}.pid").unlink()


def _ours(pid: int, marker: str) -> bool:
    """Whether ``pid`` runs with ``marker`` (our config path) on its command line: a pid file
    may be old and its number taken by another process since."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return marker.encode() in cmdline


def end_leftovers(directory: Path, names: tuple[str, ...], marker: str, timeout_s: float) -> list[int]:
    """SIGTERM, then SIGKILL after ``timeout_s``, every remembered process still running with
    ``marker``; the pids it ended."""
    ended = []
    for name in names:
        path = directory / f"{name}.pid"
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _ours(pid, marker):
            _end(pid, marker, timeout_s)
            ended.append(pid)
        forget(directory, name)
    if ended:
        log.warning("kannel.leftovers_ended", pids=ended)
    return ended


def _end(pid: int, marker: str, timeout_s: float) -> None:
    for sig, wait in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _ours(pid, marker) or _zombie(pid):
                return
            time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
