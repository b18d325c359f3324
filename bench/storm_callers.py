"""The join storm's callers: SIPp over PJSIP (UDP, loopback) keying RFC 2833 DTMF.

A DTMF pcap cannot change per call, so every conference gets its own scenario and its own
SIPp process placing ``calls`` calls at ``rate`` a second; the processes start staggered so
the storm arrives evenly. Each SIPp is bounded by its own global timeout and runs in its own
session; whatever is left when the storm ends is killed by process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from tests.support.dtmf_pcap import DtmfStream
from tests.support.ports import free_ports
from tests.support.sipp import _BYE, _INVITE, _through_proxy

# SIPp sends a key as a pcap in the background: the scenario waits this long a key
# (the pcap's key plus gap is ~0.3 s) before the next step.
KEY_WAIT_S = 0.4


@dataclass(frozen=True)
class Journey:
    """What one caller does after the answer: (pause s, keys) steps, then holds."""

    steps: list[tuple[float, str]]
    hold_s: float

    def scripted_s(self) -> float:
        """The caller's own time from the answer to the end of its last key (pauses and keying)."""
        return sum(pause + len(keys) * KEY_WAIT_S for pause, keys in self.steps)


def journey(number: str, pin: str, hold_s: float) -> Journey:
    # The pauses of tests/sip/test_sipp_dial_in.py: SIPp cannot hear prompts, so each key
    # waits for the step before it to be handled (keys interrupt prompts); 5 s after the
    # PIN covers the "say your name" prompt and the tone before # ends the recording.
    return Journey([(2.5, "1"), (1.0, number + "#"), (1.0, pin + "#"), (5.0, "#")], hold_s)


def scenario_xml(j: Journey, workdir: Path, tag: str, caller_prefix: str) -> str:
    """One SIPp scenario; ``[call_number]`` gives every call its own caller number (PIN
    guessing limits and the roster of known names are per caller number)."""
    stream = DtmfStream()
    caller = f"{caller_prefix}[call_number]"
    body = [_INVITE.format(caller=caller)]
    for i, (pause, keys) in enumerate(j.steps):
        body.append(f'  <pause milliseconds="{int(pause * 1000)}"/>')
        pcap = stream.pcap(keys, workdir / f"keys-{tag}-{i}.pcap")
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
        body.append(f'  <pause milliseconds="{int(len(keys) * KEY_WAIT_S * 1000)}"/>')
    body.append(f'  <pause milliseconds="{int(j.hold_s * 1000)}"/>')
    body.append(_BYE.format(caller=caller))
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="storm">\n'
        + "\n".join(body)
        + "\n</scenario>\n"
    )


@dataclass(frozen=True)
class Conference:
    tag: str  # file names and logs
    service: str  # the number dialled (the request URI's user)
    caller_prefix: str
    journey: Journey
    proxied: bool = False  # through a record-routing proxy (Kamailio in front of a cluster)


@dataclass
class SippRun:
    tag: str
    returncode: int | None
    created: int
    successful: int
    failed: int
    errors: str


def _stat_counts(path: Path) -> tuple[int, int, int]:
    """Calls created, successful and failed from SIPp's last statistics line (-trace_stat)."""
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return 0, 0, 0
    if len(lines) < 2:
        return 0, 0, 0
    head, last = lines[0].split(";"), lines[-1].split(";")
    row = dict(zip(head, last, strict=False))

    def num(key: str) -> int:
        try:
            return int(row.get(key, "0") or 0)
        except ValueError:
            return 0

    return num("TotalCallCreated"), num("SuccessfulCall(C)"), num("FailedCall(C)")


async def _one(
    conf: Conference, workdir: Path, target: str, rate: float, calls: int, delay_s: float, timeout_s: float
) -> SippRun:
    sipp = shutil.which("sipp")
    if sipp is None:
        raise RuntimeError("sipp is missing: `make test-deps` installs Debian's sip-tester")
    await asyncio.sleep(delay_s)
    xml = workdir / f"scenario-{conf.tag}.xml"
    text = scenario_xml(conf.journey, workdir, conf.tag, conf.caller_prefix)
    xml.write_text(_through_proxy(text) if conf.proxied else text)
    (sip_port,) = free_ports(1, socket.SOCK_DGRAM)
    (media_port,) = free_ports(1, socket.SOCK_DGRAM)
    stat, errors = workdir / f"sipp-{conf.tag}-stat.csv", workdir / f"sipp-{conf.tag}-errors.log"
    with (workdir / f"sipp-{conf.tag}.out").open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sipp, "-sf", str(xml), "-s", conf.service, target,
            "-i", "127.0.0.1", "-p", str(sip_port), "-mi", "127.0.0.1", "-mp", str(media_port),
            "-r", f"{rate:g}", "-m", str(calls), "-l", str(calls),
            # every wait for a reply is bounded, and so is the whole run
            "-recv_timeout", "20000", "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-nostdin",
            "-trace_stat", "-stf", str(stat), "-fd", "1", "-trace_err", "-error_file", str(errors),
            cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        with contextlib.suppress(TimeoutError):  # counted as failed below; never left running
            await asyncio.wait_for(proc.wait(), timeout_s + 15)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    created, ok, failed = _stat_counts(stat)
    text = errors.read_text(errors="replace") if errors.exists() else ""
    return SippRun(conf.tag, proc.returncode, created, ok, failed, text[-1500:])


async def run_storm(
    conferences: list[Conference], workdir: Path, target: str, rate: float, calls: int, timeout_s: float
) -> list[SippRun]:
    """Every conference's SIPp at once, staggered across one call interval, and wait for all."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    step = (1 / rate) / max(1, len(conferences))
    jobs = [
        _one(conf, workdir, target, rate, calls, i * step, timeout_s) for i, conf in enumerate(conferences)
    ]
    return list(await asyncio.gather(*jobs))
