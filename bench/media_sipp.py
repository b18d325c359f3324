"""The members of one conference: a SIPp process that dials in through the real IVR and stays.

One process per conference, because a pcap of keys (the conference number, the PIN) is the
same for every call of a scenario. Each call: INVITE to the access number, after answer the
keys 1, number #, PIN #, then # to end the name recording (pauses leave room for the prompts:
SIPp cannot hear them, and a key before a Read starts is lost); then its voice until Asterisk
hangs up. The first ``talkers`` calls of the process speak, the rest send a quiet line.

Members are added step by step: the process runs at a call rate with a limit on open calls,
and the limit is raised over SIPp's control socket ("cset limit N"). Calls that fail are
replaced while the limit allows, up to ``-m`` calls in all; ``-timeout`` ends the process.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from bench.media_audio import voice_pcap
from tests.support.dtmf_pcap import DtmfStream
from tests.support.sipp import _INVITE, _RECV_BYE


# The caller number: a prefix per conference, then SIPp's call number (PIN-guessing limits
# are per caller number, and the roster knows a caller's name by it).
@dataclass(frozen=True)
class Timing:
    """Seconds before each group of keys; generous, as the tests' (tests/sip)."""

    # The 1 is lost if it comes before the greeting's Read starts. With a hundred calls
    # answered at once next to a loaded conference, that took 4.4 s (bench run, 2026-12-02);
    # the greeting and its wait for a key last over 10 s, so a late 1 is still in time.
    greeting: float = 5.0
    number: float = 1.5  # the Read for it starts once the controller has the 1
    pin: float = 1.5  # ...once it has looked the number up
    name: float = 4.5  # "say your name after the tone" and the tone, then # ends the recording
    key: float = 0.4  # per key, while SIPp plays it in the background


def scenario(
    workdir: Path, tag: str, number: str, pin: str, prefix: str, talkers: int, voice_s: float, timing: Timing
) -> Path:
    """Write the scenario and its captures for one conference; returns the scenario's path."""
    stream = DtmfStream()
    # Each call its own caller number: the prefix, then SIPp's call number.
    body = [_INVITE.format(caller=f"{prefix}[call_number]")]
    steps = [
        (timing.greeting, "1"),
        (timing.number, number + "#"),
        (timing.pin, pin + "#"),
        (timing.name, "#"),
    ]
    for i, (pause, keys) in enumerate(steps):
        pcap = stream.pcap(keys, workdir / f"keys-{tag}-{i}.pcap")
        body.append(f'  <pause milliseconds="{int(pause * 1000)}"/>')
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
        body.append(f'  <pause milliseconds="{int(len(keys) * timing.key * 1000)}"/>')
    speech = voice_pcap("speech", voice_s, stream, workdir / f"speech-{tag}.pcap")
    quiet = voice_pcap("quiet", voice_s, stream, workdir / f"quiet-{tag}.pcap")
    # The first `talkers` calls of this process speak; SIPp numbers calls from 1.
    body.append(
        '  <nop><action><assignstr assign_to="c" value="[call_number]"/>'
        '<todouble assign_to="n" variable="c"/>'
        f'<test assign_to="talker" variable="n" compare="less_than_equal" value="{talkers}"/></action></nop>'
    )
    body.append('  <nop next="speak" test="talker"/>')
    body.append(f'  <nop><action><exec play_pcap_audio="{quiet}"/></action></nop>')
    body.append('  <nop next="hold"/>')
    body.append('  <label id="speak"/>')
    body.append(f'  <nop><action><exec play_pcap_audio="{speech}"/></action></nop>')
    body.append('  <label id="hold"/>')
    body.append(_RECV_BYE)
    path = workdir / f"scenario-{tag}.xml"
    path.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="dialconf-media-bench">\n'
        + "\n".join(body)
        + "\n</scenario>\n"
    )
    return path


def journey_s(number: str, pin: str, timing: Timing) -> float:
    """How long a call's keying takes, answer to the last key."""
    keys = 1 + len(number) + 1 + len(pin) + 1 + 1
    return timing.greeting + timing.number + timing.pin + timing.name + keys * timing.key


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SippMembers:
    """One SIPp process for one conference's members; ``limit`` raises their number."""

    def __init__(self, proc: asyncio.subprocess.Process, control_port: int, tag: str) -> None:
        self.proc, self.control_port, self.tag = proc, control_port, tag
        self.limit = 0

    @classmethod
    async def start(
        cls, xml: Path, target: str, service: str, first: int, ceiling: int, rate: float, timeout_s: float
    ) -> SippMembers:
        sipp = shutil.which("sipp")
        if sipp is None:
            raise RuntimeError("sipp is missing: `make test-deps` installs Debian's sip-tester")
        control, sip, media = _free_udp_port(), _free_udp_port(), _free_udp_port()
        tag = xml.stem.removeprefix("scenario-")
        proc = await asyncio.create_subprocess_exec(
            sipp, "-sf", str(xml), "-s", service, target,
            "-i", "127.0.0.1", "-p", str(sip), "-mi", "127.0.0.1", "-mp", str(media),
            "-cp", str(control), "-r", f"{rate:g}", "-l", str(first), "-m", str(ceiling),
            "-timeout", f"{int(timeout_s)}s", "-nostdin",
            "-trace_err", "-error_file", str(xml.parent / f"sipp-{tag}-errors.log"),
            cwd=xml.parent, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        members = cls(proc, control, tag)
        members.limit = first
        return members

    def _send(self, command: str) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(command.encode(), ("127.0.0.1", self.control_port))

    def raise_to(self, limit: int) -> None:
        """Let this many calls be open at once (new calls start at the process's rate)."""
        if limit != self.limit:
            self._send(f"cset limit {limit}")
            self.limit = limit

    def quit(self) -> None:
        """No new calls; the process ends when its calls have (the bench hangs them up)."""
        if self.proc.returncode is None:
            self._send("q")

    async def stop(self, wait_s: float) -> int | None:
        try:
            await asyncio.wait_for(self.proc.wait(), wait_s)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        return self.proc.returncode
