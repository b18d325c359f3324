"""The system under test, as `make run` starts it, and what the media bench reads from it.

- ``RunningSystem``: ``python -m conference_ivr run`` in its own process group, with isolated
  settings (tests/support/system.py), a wide RTP range and booking limits raised so one room
  holds hundreds; the rooms are booked in its database before it starts.
- ``Members``: our own AMI connection counting PJSIP members per conference (ConfbridgeJoin /
  ConfbridgeLeave), the way the controller follows them.
- ``sample``: CPU over a few seconds from /proc (utime + stime, every thread) of Asterisk,
  the controller, SIPp and the whole machine, in % of the machine (all CPUs).
- ``set_profile``: a bridge/user profile variant written into the instance's rendered
  confbridge.conf (not the repository's template), then ``module reload app_confbridge.so``;
  conferences created afterwards use it; ``warnings``: what Asterisk logged as wrong meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import own_cpu_seconds, process_cpu_seconds
from bench.media_sipp import SippMembers
from booking.settings import BookingSettings
from booking.store.migrate import upgrade
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin, ConfbridgeLeave, ConfbridgeTalking
from conference_ivr.dialconf.services import build_services
from conference_ivr.pbx import names
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import locate
from conference_ivr.settings import Settings
from tests.support.system import isolated_settings, settings_env

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
NPROC = os.cpu_count() or 1
SATURATED_PCT = 95.0
ACCESS = "8000"
# Room enough for the bench: the booking limits (R7, R30) are the product's, not Asterisk's.
# PIN guessing is allowed too: a key lost on a loaded machine makes a wrong PIN, and the
# product's 15 per conference would then lock a bench room for an hour, every later call with it.
BOOKING_LIMITS: dict[str, int | float] = {
    "system_capacity": 100_000,
    "anytime_max_seats": 5_000,
    "panel_max_seats": 5_000,
    "pin_per_caller": 100_000,
    "pin_per_conference": 100_000,
    "pin_base_delay_s": 0.1,
    "pin_max_delay_s": 0.2,
}


@dataclass(frozen=True)
class Room:
    number: str
    pin: str
    bridge: str


def bench_settings(tmp: Path, rtp_start: int, rtp_ports: int) -> Settings:
    s = isolated_settings(tmp, name="media")
    asterisk = s.asterisk.model_copy(update={"rtp_start": rtp_start, "rtp_end": rtp_start + rtp_ports})
    booking = BookingSettings.model_validate(BOOKING_LIMITS)
    return s.model_copy(update={"asterisk": asterisk, "booking": booking})


def book_rooms(settings: Settings, seats: list[int]) -> list[Room]:
    """Anytime rooms of the given sizes, booked as an operator would."""
    upgrade(settings.database_url)
    services = build_services(settings)
    booking = services.booking
    try:
        rooms = []
        for i, n in enumerate(seats):
            r = booking.book(None, None, n, profile=f"media-bench-{i}")
            number = r.room.conference_number
            rooms.append(Room(number, r.room.pin, names.bridge_name(number)))
        return rooms
    finally:
        services.close()


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


class RunningSystem:
    """`python -m conference_ivr run` for the bench; ``stop`` is Ctrl-C, then the group is killed."""

    def __init__(self, settings: Settings, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.settings, self.proc, self.log = settings, proc, log
        self.instance = AsteriskInstance(locate(settings.asterisk), settings)
        self.asterisk = AsteriskProcess(self.instance)

    @classmethod
    async def start(
        cls, settings: Settings, tmp: Path, announce_names: bool, timeout_s: float = 90
    ) -> RunningSystem:
        env = settings_env(settings)
        env.update({f"DIALCONF_BOOKING__{k.upper()}": str(v) for k, v in BOOKING_LIMITS.items()})
        env["DIALCONF_CONTROLLER__ANNOUNCE_NAMES"] = "true" if announce_names else "false"
        out = tmp / "run.out"
        with out.open("wb") as fh:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "conference_ivr", "run",
                cwd=REPO, env=env, stdout=fh, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        system = cls(settings, proc, out)
        async with asyncio.timeout(timeout_s):
            while "Book another" not in out.read_text(errors="replace"):
                if proc.returncode is not None:
                    raise RuntimeError(f"dialconf run exited:\n{out.read_text(errors='replace')[-3000:]}")
                await asyncio.sleep(0.2)
        return system

    @property
    def controller_pid(self) -> int:
        return self.proc.pid

    def asterisk_pid(self) -> int:
        pid = self.asterisk.pid()
        if pid is None:
            raise RuntimeError("Asterisk is not running")
        return pid

    def version(self) -> str:
        return str(self.instance.install.version)

    def ami(self) -> AmiClient:
        a = self.settings.asterisk
        # Only the "call" class (ConfBridge events are in it): the bench's own connection should
        # add little to Asterisk's manager queue during a join burst.
        return AmiClient(a.ami_host, a.ami_port, a.ami_user, self.instance.ami_secret(), events="call")

    def set_profile(self, mixing_interval: int, drop_silence: bool) -> None:
        """Rewrite the rendered profiles (bridge: mixing_interval; users: dsp_drop_silence) and reload."""
        path = self.instance.host("etc", "confbridge.conf")
        text = path.read_text()
        text = re.sub(r"(?m)^mixing_interval = \d+", f"mixing_interval = {mixing_interval}", text)
        text = re.sub(
            r"(?m)^dsp_drop_silence = \w+", f"dsp_drop_silence = {'yes' if drop_silence else 'no'}", text
        )
        path.write_text(text)
        done = self.asterisk.rx("module reload app_confbridge.so")
        if done.returncode != 0:
            raise RuntimeError(f"reload failed: {done.stdout} {done.stderr}")

    def hang_up_all(self) -> None:
        self.asterisk.rx("channel request hangup all")

    def warnings(self) -> dict[str, dict[str, Any]]:
        """Warning and error lines in Asterisk's log by where they come from: count and first text."""
        out: dict[str, dict[str, Any]] = {}
        try:
            text = self.instance.host("log", "messages").read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            level = "ERROR" if "ERROR[" in line else "WARNING" if "WARNING[" in line else None
            if level is None or "] " not in line:
                continue
            where, _, message = line.split("] ", 1)[1].partition(": ")
            origin = re.sub(r"\[[^]]*\]", "", where.split(":")[0])  # without thread and call ids
            entry = out.setdefault(origin, {"count": 0, "first": message[:200]})
            entry["count"] += 1
        return out

    async def stop(self) -> int | None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        if not os.environ.get("DIALCONF_KEEP_INSTANCES"):
            shutil.rmtree(self.instance.host(), ignore_errors=True)  # it lives in the shared cached root
        return self.proc.returncode


class Members:
    """PJSIP members per conference bridge, from ConfbridgeJoin/Leave on our own AMI connection;
    and the members ConfBridge heard talking (ConfbridgeTalking on), to check the voices."""

    def __init__(self) -> None:
        self.by_bridge: dict[str, set[str]] = defaultdict(set)
        self.joins = 0
        self.talked: set[str] = set()
        self._changed = asyncio.Event()

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, ConfbridgeJoin) and event.channel.startswith("PJSIP/"):
            self.by_bridge[event.conference].add(event.uniqueid)
            self.joins += 1
            self._changed.set()
        elif isinstance(event, ConfbridgeLeave):
            self.by_bridge[event.conference].discard(event.uniqueid)
            self._changed.set()
        elif isinstance(event, ConfbridgeTalking) and event.talking and event.channel.startswith("PJSIP/"):
            self.talked.add(event.uniqueid)

    def count(self, bridges: list[str] | None = None) -> int:
        keys = bridges if bridges is not None else list(self.by_bridge)
        return sum(len(self.by_bridge.get(b, ())) for b in keys)

    async def wait_for(self, bridges: list[str], target: int, timeout_s: float, quiet_s: float) -> int:
        """Until ``target`` members are in, or ``timeout_s``, or once some joined, none for
        ``quiet_s`` (calls that lost a key are still in the IVR, or gave up)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        joins_before, last_join = self.joins, loop.time()
        while self.count(bridges) < target and loop.time() < end:
            self._changed.clear()
            joins = self.joins
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(1.0, max(0.01, end - loop.time())))
            if self.joins > joins:
                last_join = loop.time()
            elif self.joins > joins_before and loop.time() - last_join > quiet_s:
                break
        return self.count(bridges)


def pct(cpu_s: float, wall_s: float) -> float:
    return round(cpu_s / wall_s / NPROC * 100, 2)


def status(pid: int) -> tuple[float, int]:
    """Resident MiB and threads of a process."""
    rss, threads = 0.0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return round(rss, 1), threads


async def sample(
    system: RunningSystem, sipps: list[SippMembers], members: Members, bridges: list[str], seconds: float
) -> dict[str, Any]:
    """CPU of Asterisk, the controller, SIPp and the machine over ``seconds``, in % of the machine;
    members counted in ``bridges``."""
    ast, ctl = system.asterisk_pid(), system.controller_pid
    live = [s.proc.pid for s in sipps if s.proc.returncode is None]
    n0 = members.count(bridges)
    a0, c0, s0, m0, b0 = (
        process_cpu_seconds(ast),
        process_cpu_seconds(ctl),
        sum(map(process_cpu_seconds, live)),
        machine_busy(),
        own_cpu_seconds(),
    )
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - t0
    a1, c1, s1, m1, b1 = (
        process_cpu_seconds(ast),
        process_cpu_seconds(ctl),
        sum(map(process_cpu_seconds, live)),
        machine_busy(),
        own_cpu_seconds(),
    )
    rss, threads = status(ast)
    asterisk, controller = pct(a1 - a0, wall), pct(c1 - c0, wall)
    sipp, bench = pct(s1 - s0, wall), pct(b1 - b0, wall)
    busy = round((m1[0] - m0[0]) / (m1[1] - m0[1]) * 100, 2)
    return {
        "members": round((n0 + members.count(bridges)) / 2),
        "members_min_max": [min(n0, members.count(bridges)), max(n0, members.count(bridges))],
        "asterisk_pct": asterisk,
        "controller_pct": controller,
        "controller_share_of_asterisk_pct": round(controller / asterisk * 100, 1) if asterisk else None,
        "sipp_pct": sipp,
        "machine_busy_pct": busy,
        # A machine this busy may have kept Asterisk waiting: its CPU is then less than it needs.
        "saturated": busy >= SATURATED_PCT,
        "others_pct": round(busy - asterisk - controller - sipp - bench, 2),
        "asterisk_rss_mib": rss,
        "asterisk_threads": threads,
        "sample_s": round(wall, 2),
    }
