"""The join storm's system under test: `python -m conference_ivr run` (what `make run` starts) in
its own session, its booked rooms, the static-dialplan floor added to its Asterisk instance,
and CPU readers for the controller and Asterisk processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from booking.settings import BookingSettings
from booking.store.migrate import upgrade
from conference_ivr.dialconf.services import build_services
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.names import SOUNDS_DIR
from conference_ivr.pbx.provision import locate
from conference_ivr.settings import Settings
from tests.support.system import isolated_settings, settings_env

REPO = Path(__file__).resolve().parents[1]
CONTROLLER_ACCESS = "8000"
# The floor's access number: an exact extension beats the access context's `_X.` pattern. Its
# caller keys the conference number like a controller caller; it names the floor's bridge.
FLOOR_ACCESS = "8999"
FLOOR_USER_PROFILE = "storm_floor_user"
FLOOR_BRIDGE_PREFIX = "storm-floor-"
# Anytime rooms may have at most 30 seats (R30); 20 callers plus announcers fit.
ROOM_SEATS = 30


@dataclass(frozen=True)
class Room:
    number: str
    pin: str


def storm_settings(tmp: Path, rtp_ports: int, capacity: int) -> Settings:
    """An isolated instance with an RTP band for every call of a storm (two ports a call,
    RTP + RTCP) and a seat capacity for every booked room."""
    base = isolated_settings(tmp, name="storm")
    # Away from the test bands (20000 + worker * 2000 + ...): a band per pid, 10 bands.
    start = 30000 + (os.getpid() % 10) * 2100
    # The trace log (every prompt and key, with Asterisk's clock) is what the split is read from.
    asterisk = base.asterisk.model_copy(
        update={"rtp_start": start, "rtp_end": start + rtp_ports, "trace_log": True}
    )
    booking = BookingSettings(system_capacity=capacity)
    return base.model_copy(update={"asterisk": asterisk, "booking": booking})


def storm_env(settings: Settings) -> dict[str, str]:
    env = settings_env(settings)
    env["DIALCONF_BOOKING__SYSTEM_CAPACITY"] = str(settings.booking.system_capacity)
    env["DIALCONF_ASTERISK__TRACE_LOG"] = "true"
    env["DIALCONF_LOG_LEVEL"] = "warning"  # as in production the logs are not what is measured
    return env


def book_rooms(settings: Settings, count: int) -> list[Room]:
    """``count`` anytime rooms, each its own profile's (at most 3 active per profile)."""
    upgrade(settings.database_url)
    services = build_services(settings)
    booking = services.booking
    try:
        rooms = []
        for i in range(count):
            r = booking.book(None, None, ROOM_SEATS, profile=f"storm-bench-{i}")
            rooms.append(Room(r.room.conference_number, r.room.pin))
        return rooms
    finally:
        services.close()


def _floor_dialplan(digit_timeout_s: float) -> str:
    # The controller journey's keys up to the PIN: 1, conference number # (the same prompts),
    # then ConfBridge's own PIN prompt and check, and the conference. No name recording:
    # ConfBridge's own (announce_join_leave) holds each joiner while the names of the others
    # are played to the conference, which no floor should. The caller's later # for the
    # name lands in the conference, where it does nothing.
    return f"""
; --- added by bench/storm_bench.py: the join storm's floor (no controller) ---
[dialconf-access](+)
exten => {FLOOR_ACCESS},1,Answer()
 same => n,Read(STORM_KEY,dialconf/press_one,1,,1,{digit_timeout_s:g})
 same => n,Read(STORM_CONF,conf-getconfno,12,,1,{digit_timeout_s:g})
 same => n,ConfBridge({FLOOR_BRIDGE_PREFIX}${{STORM_CONF}},dialconf_bridge,{FLOOR_USER_PROFILE})
 same => n,Hangup()
"""


def _floor_profile(pin: str) -> str:
    return f"""
; --- added by bench/storm_bench.py: the join storm's floor (no controller) ---
[{FLOOR_USER_PROFILE}](dialconf_participant)
pin = {pin}
"""


def sound_seconds(instance: AsteriskInstance, name: str, language: str = "en") -> float:
    """How long a prompt plays: WAV from its header, GSM 33 bytes a 20 ms frame, signed linear
    16 bits at 8 kHz; 0 for a sound not found (it plays nothing)."""
    base = instance.install.resolve(SOUNDS_DIR / language)
    path = next(
        (p for p in base.glob(f"{name}.*") if p.suffix in _SOUND_BYTES_PER_S or p.suffix == ".wav"), None
    )
    if path is None:
        return 0.0
    if path.suffix == ".wav":
        with wave.open(str(path)) as w:
            return float(w.getnframes() / w.getframerate())
    return path.stat().st_size / _SOUND_BYTES_PER_S[path.suffix]


_SOUND_BYTES_PER_S = {".gsm": 33 / 0.020, ".sln": 16000.0, ".slin": 16000.0, ".ulaw": 8000.0, ".alaw": 8000.0}


class RunningSystem:
    """The `run` process (the controller, API, messaging) and its Asterisk."""

    def __init__(self, settings: Settings, proc: asyncio.subprocess.Process) -> None:
        self.settings = settings
        self.proc = proc
        self.instance = AsteriskInstance(locate(settings.asterisk), settings)

    @property
    def controller_pid(self) -> int:
        return self.proc.pid

    def asterisk_pid(self) -> int:
        return int(self.instance.host("run", "asterisk.pid").read_text().strip())

    def rx(self, command: str) -> str:
        res = subprocess.run(
            self.instance.asterisk_cmd("-rx", command),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if res.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r}: {res.stdout}{res.stderr}")
        return res.stdout

    def metrics(self) -> dict[str, float]:
        """The controller's own counters that say where a storm's calls went: time deciding each
        IVR step (sum and count), joins and failures by reason (Prometheus text, flattened)."""
        c = self.settings.controller
        with urllib.request.urlopen(f"http://{c.bind_address}:{c.metrics_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith(_METRICS):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def version(self) -> str:
        return self.rx("core show version").strip()

    def install_floor(self, pin: str, digit_timeout_s: float) -> None:
        """Append the floor to the instance's rendered config (never the repository's
        templates) and reload the two modules that read it."""
        with self.instance.host("etc", "extensions.conf").open("a") as f:
            f.write(_floor_dialplan(digit_timeout_s))
        with self.instance.host("etc", "confbridge.conf").open("a") as f:
            f.write(_floor_profile(pin))
        self.rx("dialplan reload")
        self.rx("module reload app_confbridge.so")
        shown = self.rx(f"confbridge show profile user {FLOOR_USER_PROFILE}")
        if pin not in shown:
            raise RuntimeError(f"floor profile not loaded: {shown[:500]}")
        plan = self.rx(f"dialplan show {FLOOR_ACCESS}@dialconf-access")
        if "ConfBridge" not in plan:
            raise RuntimeError(f"floor dialplan not loaded: {plan[:500]}")


_METRICS = (
    "dialconf_controller_step_seconds_sum",
    "dialconf_controller_step_seconds_count",
    "dialconf_join_failures_total",
    "dialconf_joins_total",
    "dialconf_calls_total",
)


def metrics_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Per storm: calls, joins and failures by reason, and the mean ms of each IVR step."""
    diff = {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}
    out: dict[str, Any] = {k: int(v) for k, v in diff.items() if not k.startswith("dialconf_controller_step")}
    for key, total in diff.items():
        if key.startswith("dialconf_controller_step_seconds_sum"):
            count = diff.get(key.replace("_sum", "_count"), 0)
            label = key.split("{", 1)[1].rstrip("}") if "{" in key else key
            out[f"step mean ms {label}"] = round(total / count * 1000, 1) if count else None
    return out


def proc_wait_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (/proc schedstat,
    summed over its live threads): how much a process was starved by everything else."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total / 1e9


async def _banner(stdout: asyncio.StreamReader, timeout: float) -> str:
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while not lines or not lines[-1].startswith("Book another"):
            line = await stdout.readline()
            if not line:
                raise RuntimeError("dialconf run exited before its banner:\n" + "".join(lines))
            lines.append(line.decode())
    return "".join(lines)


@asynccontextmanager
async def running_system(
    settings: Settings, env: dict[str, str], log_file: Path
) -> AsyncIterator[RunningSystem]:
    """Start `python -m conference_ivr run` in its own session; stop it with SIGINT (as Ctrl-C),
    then kill its process group if it lingers. Its instance files are removed afterwards."""
    with log_file.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "conference_ivr", "run",
            cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=err, start_new_session=True,
        )  # fmt: skip
    system = RunningSystem(settings, proc)
    try:
        assert proc.stdout is not None
        await _banner(proc.stdout, 120)
        # Keep reading its stdout so a chatty child never blocks on a full pipe.
        drain = asyncio.create_task(_discard(proc.stdout))
        try:
            yield system
        finally:
            drain.cancel()
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 40)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        if not os.environ.get("DIALCONF_KEEP_INSTANCES"):
            shutil.rmtree(system.instance.host(), ignore_errors=True)


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
