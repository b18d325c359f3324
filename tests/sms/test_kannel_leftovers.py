"""A Kannel whose parent was killed hard (kill -9) is ended by the next start, not left
holding the ports: `dialconf` restarted after a crash gets its SMS gateway back."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from booking.adapters.kannel import KannelProcess
from tests.support.kannel import kannel_settings

PARENT = """
import json, sys, time
from pathlib import Path
from booking.adapters.kannel import KannelProcess
from booking.settings import KannelSettings
settings = KannelSettings.model_validate_json(sys.argv[1])
k = KannelProcess(settings).start(Path(sys.argv[2]))
print("PIDS", json.dumps([k.bearerbox.pid, k.smsbox.pid]), flush=True)
time.sleep(600)  # a parent that lives on until the test kills it, not a wait
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_next_start_ends_a_kannel_left_by_a_killed_parent(tmp_path: Path) -> None:
    settings = kannel_settings("http://127.0.0.1:9/sms/kannel")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, settings.model_dump_json(), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        assert parent.stdout is not None
        line = ""
        while not line.startswith("PIDS "):  # structlog may print before it
            line = parent.stdout.readline()
            assert line, "the parent did not start Kannel"
        old = json.loads(line.removeprefix("PIDS "))
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert parent.stdout is not None
        parent.stdout.close()
    try:
        assert all(alive(pid) for pid in old)  # orphans now, still holding the ports
        with KannelProcess(settings).start(tmp_path) as k:
            assert k.status() is not None
            assert not any(alive(pid) for pid in old)
        assert not (tmp_path / "bearerbox.pid").exists()
    finally:  # whatever failed above, no Kannel outlives the test
        for pid in old:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
