"""A fake Asterisk for the AGI benchmark: Asterisk's side of the dial-in journey.

It opens an AGI "line" per call: a FastAGI connection (loopback TCP) to the controller, or a
classic AGI script started as a process (stdin/stdout pipes). It sends the ``agi_*`` headers,
then answers every command the way Asterisk 22 does (``200 result=...``), keying the caller's
DTMF at each ``Read()`` (1, the conference number, the PIN). Commands that play media on a
real channel (Read, STREAM FILE...) are answered after a "media time"; the rest at once.

For every exchange it records the time from writing its reply to the next command arriving:
the implementation's own cost for that step (plus the loopback and this peer's scheduling,
which the transport-floor run of bench/agi_bench.py measures). Also the time from opening the
line to the first command (connection, or process start), from the last reply until the line
closes, and from opening the line to ``DIALCONF_ACTION=join``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

VAR_ACTION, ACTION_JOIN = "DIALCONF_ACTION", "join"  # conference_ivr.pbx.names (the test checks)
VAR_DIGITS = "DIALCONF_DIGITS"  # where the journey's Read() puts the digits

# Two- and three-word verbs, longest first; any other command is one word (EXEC adds its app).
_VERBS = (
    "GET FULL VARIABLE",
    "WAIT FOR DIGIT",
    "SET VARIABLE",
    "GET VARIABLE",
    "STREAM FILE",
    "RECORD FILE",
    "SAY NUMBER",
    "GET DATA",
    "CHANNEL STATUS",
)
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_ESCAPED = re.compile(r"\\(.)")
READ_KINDS = frozenset({"EXEC Read", "GET DATA"})  # the caller listens and keys digits
PLAY_KINDS = frozenset({"STREAM FILE", "EXEC Playback", "EXEC Wait", "RECORD FILE", "SAY NUMBER"})


# --- commands and replies (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    kind: str  # "ANSWER", "SET VARIABLE", "EXEC Read", ...
    args: tuple[str, ...] = ()


def parse_command(line: str) -> Command:
    """One AGI command line, as the controller writes it (bare names) or pyst2 (quoted names)."""
    line = line.strip()
    for verb in _VERBS:
        if line.startswith(verb) and line[len(verb) : len(verb) + 1] in ("", " "):
            kind, rest = verb, line[len(verb) :]
            break
    else:
        kind, _, rest = line.partition(" ")
        if kind == "EXEC":
            app, _, rest = rest.strip().partition(" ")
            kind = f"EXEC {app}"
    args: list[str] = []
    for m in _TOKEN.finditer(rest):
        quoted, bare = m.group(1), m.group(2)
        args.append(bare if bare is not None else _ESCAPED.sub(r"\1", quoted))
    return Command(kind, tuple(args))


@dataclass(frozen=True)
class Caller:
    """What one caller does: the keys pressed at each Read(), in order, each with what it is
    ("conference number", "PIN"...), and how ConfBridge sees the room ("parties,locked")."""

    keys: Sequence[tuple[str, str]]
    room_info: str = "0,0"


class Asterisk:
    """Asterisk's replies for one call. ``reply`` returns the line (without the newline) and,
    when it handed over keyed digits, what they were (the next step is labelled by it)."""

    def __init__(self, caller: Caller) -> None:
        self._keys = iter(caller.keys)
        self._room_info = caller.room_info
        self._keyed: tuple[str, str] = ("", "")
        self.joined = False
        self.hung_up = False

    def reply(self, cmd: Command) -> tuple[str, str]:
        kind, args = cmd.kind, cmd.args
        if kind in READ_KINDS:
            self._keyed = next(self._keys, ("", ""))
            if kind == "GET DATA":  # the digits come back in the result itself
                digits, what = self._keyed
                return (f"200 result={digits}" if digits else "200 result= (timeout)"), what
            return "200 result=0", ""
        if kind == "GET VARIABLE":
            name = args[0] if args else ""
            if name == VAR_DIGITS:
                digits, what = self._keyed
                return (f"200 result=1 ({digits})", what) if digits else ("200 result=0", "")
            if name == "READSTATUS":
                return f"200 result=1 ({'OK' if self._keyed[0] else 'TIMEOUT'})", ""
            return "200 result=0", ""
        if kind == "GET FULL VARIABLE":
            if args and "CONFBRIDGE_INFO" in args[0]:
                return f"200 result=1 ({self._room_info})", ""
            return "200 result=0", ""
        if kind == "SET VARIABLE":
            if args[:2] == (VAR_ACTION, ACTION_JOIN):
                self.joined = True
            return "200 result=1", ""
        if kind in ("STREAM FILE", "RECORD FILE"):
            return "200 result=0 endpos=8000", ""
        if kind == "HANGUP":
            self.hung_up = True
            return "200 result=1", ""
        if kind == "ANSWER" or kind.startswith("EXEC "):
            return "200 result=0", ""
        return "200 result=1", ""


class MediaTime:
    """How long a real channel would take before replying: a Read() plays its prompt and waits
    for the keys, STREAM FILE plays a phrase. Uniform draws in seconds; 0 for other commands."""

    def __init__(self, read_s: tuple[float, float], play_s: tuple[float, float], seed: int = 1) -> None:
        self.read_s, self.play_s = read_s, play_s
        self._rng = random.Random(seed)

    def __call__(self, cmd: Command) -> float:
        if cmd.kind in READ_KINDS:
            return self._rng.uniform(*self.read_s)
        if cmd.kind in PLAY_KINDS:
            return self._rng.uniform(*self.play_s)
        return 0.0


def agi_headers(
    n: int, access: str, callerid: str, script: str, network: bool, uniqueid: str | None = None
) -> bytes:
    """The ``agi_*`` block Asterisk 22 sends when an AGI starts (FastAGI: ``agi_network``)."""
    lines = {
        "agi_request": f"agi://127.0.0.1/{script}" if network else script,
        "agi_channel": f"PJSIP/caller-{n:08x}",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid or f"1700000000.{n}",
        "agi_version": "22.0.0",
        "agi_callerid": callerid,
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": access,
        "agi_rdnis": "unknown",
        "agi_context": "dialconf-ivr",
        "agi_extension": access,
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": str(140000000000000 + n),
        "agi_arg_1": access,
    }
    if network:
        lines = {"agi_network": "yes", "agi_network_script": script, **lines}
    return ("".join(f"{k}: {v}\n" for k, v in lines.items()) + "\n").encode()


# --- lines: where a call's AGI runs ---------------------------------------------------------


class Line(Protocol):
    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]: ...

    async def close(self) -> None: ...


class TcpLine:
    """A FastAGI connection, as Asterisk's ``AGI(agi://host:port/route)`` opens one."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()


class ProcessLine:
    """A classic AGI: Asterisk forks the script for the call and talks over its stdin/stdout
    (its stderr goes to Asterisk's verbose log; here to /dev/null)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self._argv, self._env = list(argv), env
        self._proc: asyncio.subprocess.Process | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._proc = await asyncio.create_subprocess_exec(
            *self._argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=self._env if self._env is not None else dict(os.environ),
        )
        assert self._proc.stdout is not None and self._proc.stdin is not None
        return self._proc.stdout, self._proc.stdin

    async def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def probe_process(
    argv: Sequence[str], env: dict[str, str], headers: bytes, caller: Caller, timeout_s: float = 60.0
) -> tuple[float, float]:
    """One call to a script, alone and without media time: (peak RSS MiB, CPU seconds) of that
    process. The peak is its VmHWM read while it waits for the reply to the join (``ru_maxrss``
    would include the parent's pages it was forked with); the CPU comes from ``wait4``. Blocks;
    the script is killed at timeout_s."""
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    watchdog = threading.Timer(timeout_s, proc.kill)
    watchdog.start()
    asterisk = Asterisk(caller)
    peak_kib = 0
    try:
        proc.stdin.write(headers)
        proc.stdin.flush()
        while raw := proc.stdout.readline():
            reply, _ = asterisk.reply(parse_command(raw.decode("utf-8", "replace").rstrip("\r\n")))
            if asterisk.joined and not peak_kib:
                peak_kib = vm_hwm_kib(proc.pid)
            proc.stdin.write(reply.encode() + b"\n")
            proc.stdin.flush()
        proc.stdin.close()
    finally:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        watchdog.cancel()
    if not asterisk.joined:
        raise RuntimeError(f"{argv}: the probe call did not join (exit {proc.returncode})")
    return round(peak_kib / 1024, 1), usage.ru_utime + usage.ru_stime


def vm_hwm_kib(pid: int) -> int:
    """A live process's peak resident set (VmHWM, KiB), 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


# --- one call --------------------------------------------------------------------------------


@dataclass
class CallRecord:
    start_s: float | None = None  # line opened -> first command
    gaps: list[tuple[str, str, float]] = field(default_factory=list)  # (next command, keyed before, s)
    end_s: float | None = None  # last reply -> the line closed (socket closed, script exited)
    join_s: float | None = None  # line opened -> DIALCONF_ACTION=join arrived (media included)
    busy_s: float = 0.0  # start + every gap up to the join: the implementation's time per call
    media_s: float = 0.0  # time the peer held replies back (prompts, keying)
    commands: int = 0
    joined: bool = False
    error: str = ""


async def play_call(
    line: Line, headers: bytes, caller: Caller, media: MediaTime, timeout_s: float
) -> CallRecord:
    """Be Asterisk for one call, until the other side closes the line (or ``timeout_s``)."""
    rec = CallRecord()
    asterisk = Asterisk(caller)
    began = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await line.open()
            try:
                writer.write(headers)
                sent, keyed = began, ""
                while True:
                    raw = await reader.readline()
                    now = time.perf_counter()
                    if not raw:
                        if rec.commands:
                            rec.end_s = now - sent
                        break
                    cmd = parse_command(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    gap = now - sent
                    if rec.commands == 0:
                        rec.start_s = gap
                    else:
                        rec.gaps.append((cmd.kind, keyed, gap))
                    rec.commands += 1
                    if not rec.joined:
                        rec.busy_s += gap
                    reply, keyed = asterisk.reply(cmd)
                    if asterisk.joined and not rec.joined:
                        rec.joined, rec.join_s = True, now - began
                    hold = media(cmd)
                    if hold:
                        await asyncio.sleep(hold)
                        rec.media_s += hold
                    writer.write(reply.encode() + b"\n")
                    sent = time.perf_counter()
                    await writer.drain()
            finally:
                await line.close()
    except TimeoutError:
        rec.error = f"no end within {timeout_s:g} s after {rec.commands} commands"
    except (ConnectionError, OSError) as exc:
        rec.error = f"{type(exc).__name__}: {exc}"
    return rec


# --- a load level ----------------------------------------------------------------------------


@dataclass
class Level:
    concurrency: int
    records: list[CallRecord]
    seconds: float  # wall time, ramp and drain included
    max_in_flight: int

    @property
    def joined(self) -> int:
        return sum(r.joined for r in self.records)


async def run_level(
    line_for: Callable[[], Line],
    call_for: Callable[[int], tuple[bytes, Caller]],
    media: MediaTime,
    concurrency: int,
    seconds: float,
    max_calls: int,
    ramp_s: float,
    call_timeout_s: float,
) -> Level:
    """``concurrency`` callers, each placing calls back to back. They start spread over
    ``ramp_s``; no call starts after ``seconds`` or past ``max_calls``; each call ends by
    itself or at ``call_timeout_s``. So a level lasts at most seconds + call_timeout_s."""
    records: list[CallRecord] = []
    started = in_flight = max_in_flight = 0
    began = time.perf_counter()
    deadline = began + seconds

    async def caller(k: int) -> None:
        nonlocal started, in_flight, max_in_flight
        await asyncio.sleep(ramp_s * k / concurrency)
        while time.perf_counter() < deadline and started < max_calls:
            headers, who = call_for(started)
            started += 1
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            try:
                records.append(await play_call(line_for(), headers, who, media, call_timeout_s))
            finally:
                in_flight -= 1

    await asyncio.gather(*(caller(k) for k in range(concurrency)))
    return Level(concurrency, records, time.perf_counter() - began, max_in_flight)


# --- statistics ------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest rank on sorted values (as bench/booking_bench.py): p in [0, 100]."""
    if not ordered:
        raise ValueError("no values")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """n, p50, p90, p99, max and mean in milliseconds; just n=0 when there is nothing."""
    if not seconds:
        return {"n": 0}
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 3),
        "p90": round(percentile(ms, 90), 3),
        "p99": round(percentile(ms, 99), 3),
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
    }


def level_summary(level: Level) -> dict[str, Any]:
    """What a level measured: every exchange, by command type and by keyed step, the start and
    end of the line, the time to join and the implementation's busy time per call."""
    recs = level.records
    by_kind: dict[str, list[float]] = {}
    by_step: dict[str, list[float]] = {}
    exchanges: list[float] = []
    for r in recs:
        for kind, keyed, s in r.gaps:
            exchanges.append(s)
            by_kind.setdefault(kind, []).append(s)
            if keyed:
                by_step.setdefault(f"after the {keyed}", []).append(s)
    errors = [r.error for r in recs if r.error]
    return {
        "concurrency": level.concurrency,
        "max_in_flight": level.max_in_flight,
        "seconds": round(level.seconds, 2),
        "calls": len(recs),
        "joined": level.joined,
        "not_joined": len(recs) - level.joined,
        "joins_per_s": round(level.joined / level.seconds, 2) if level.seconds else 0.0,
        "errors": len(errors),
        "error_samples": errors[:5],
        "exchanges": summary_ms(exchanges),
        "start": summary_ms([r.start_s for r in recs if r.start_s is not None]),
        "end": summary_ms([r.end_s for r in recs if r.end_s is not None]),
        "by_kind": {k: summary_ms(v) for k, v in sorted(by_kind.items())},
        "by_step": {k: summary_ms(v) for k, v in sorted(by_step.items())},
        "join": summary_ms([r.join_s for r in recs if r.join_s is not None]),
        "busy_per_call": summary_ms([r.busy_s for r in recs if r.joined]),
        "media_per_call_s": round(statistics.fmean(r.media_s for r in recs), 3) if recs else 0.0,
        "commands_per_call": round(statistics.fmean(r.commands for r in recs), 1) if recs else 0.0,
    }
