"""One FastAGI conversation: send a command, read exactly its reply.

Every reply is awaited for at most ``reply_timeout`` seconds beyond what the command itself
legitimately waits (``expected_wait``: a Read's digit timeouts, a Wait's seconds, a recording's
length), so a stalled or silent peer holds a session for about a minute, not an hour. After a
timeout the session is dead: further commands fail at once, the route ends and the socket
closes.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections.abc import Callable

import structlog

from conference_ivr.agi.protocol import HANGUP_LINE, AgiHeaders, AgiReply, parse_reply, quote
from conference_ivr.errors import AgiCommandError, AgiHangup, AgiReplyTimeout

log = structlog.get_logger(__name__)

# Called with (command verb, seconds) after every exchange; used for the latency histogram.
ExchangeObserver = Callable[[str, float], None]
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
# The verbs expected_wait gives time to. Every command is checked against them before it is
# split: shlex on each of a call's ~18 commands was 13-15 % of the event loop's time per join
# under the AGI bench's burst (py-spy, 2026-12-03), for the few that wait.
_WAITING_VERBS = ("EXEC READ", "EXEC WAIT", "RECORD FILE", "GET DATA", "WAIT FOR")


def _seconds(text: str, default: float = 0.0) -> float:
    return float(text) if _NUMBER.match(text.strip()) else default


def expected_wait(cmd: str) -> float:
    """Seconds a command may take on a live channel by its own arguments (beyond playing its
    prompts): ``EXEC Read`` waits up to its timeout for each digit and attempt, ``EXEC Wait``
    its seconds, ``RECORD FILE`` its maximum length, ``GET DATA`` and ``WAIT FOR DIGIT``
    their timeouts. Other commands: 0."""
    if not cmd.lstrip()[:11].upper().startswith(_WAITING_VERBS):
        return 0.0
    try:
        words = shlex.split(cmd)
    except ValueError:
        return 0.0
    verb = " ".join(w.upper() for w in words[:2])
    if verb == "EXEC READ" and len(words) > 2:
        fields = words[2].split(",") + [""] * 6
        digits = int(_seconds(fields[2], 1)) or 1
        attempts = int(_seconds(fields[4], 1)) or 1
        return attempts * digits * _seconds(fields[5])  # Read's timeout applies to every digit
    if verb == "EXEC WAIT" and len(words) > 2:
        return _seconds(words[2].split(",")[0])
    if verb == "RECORD FILE" and len(words) > 5:
        return _seconds(words[5]) / 1000
    if verb == "GET DATA" and len(words) > 3:
        digits = int(_seconds(words[4], 1)) if len(words) > 4 else 1
        return _seconds(words[3]) / 1000 * max(1, digits)
    if verb == "WAIT FOR" and len(words) > 3:
        return max(0.0, _seconds(words[3]) / 1000)
    return 0.0


class AgiSession:
    def __init__(
        self,
        headers: AgiHeaders,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        reply_timeout: float = 60.0,
        observer: ExchangeObserver | None = None,
    ) -> None:
        self.headers = headers
        self._reader = reader
        self._writer = writer
        self._reply_timeout = reply_timeout
        self._observer = observer
        self.hung_up = False
        self.timed_out = False

    async def command(self, cmd: str) -> AgiReply:
        """Send one command and return its reply.

        Raises AgiHangup when the socket closes, AgiReplyTimeout when no reply comes in time;
        AgiCommandError for 510/520 replies. An unsolicited HANGUP line only marks the session
        (the real reply follows it).
        """
        if self.timed_out:
            raise AgiReplyTimeout("the session timed out before")
        started = time.perf_counter()
        self._writer.write(cmd.encode() + b"\n")
        try:
            # asyncio.timeout, not wait_for: no extra task per command (the bench measured ~5 %).
            # The drain is inside it too: a peer that reads nothing must not hold us either.
            async with asyncio.timeout(self._reply_timeout + expected_wait(cmd)):
                await self._writer.drain()
                reply = await self._read_reply()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise AgiHangup(f"AGI socket closed during {cmd.split(' ', 1)[0]}") from exc
        except TimeoutError as exc:
            self.timed_out = True
            raise AgiReplyTimeout(f"no reply to {cmd.split(' ', 1)[0]} in time") from exc
        if self._observer is not None:
            self._observer(" ".join(cmd.split(" ", 2)[:2]), time.perf_counter() - started)
        if reply.code == 511:  # "Command Not Permitted on a dead channel": the caller is gone
            raise AgiHangup(f"{cmd.split(' ', 1)[0]} on a dead channel")
        if reply.code in (510, 520):
            raise AgiCommandError(f"{cmd!r}: {reply.code} {reply.text}")
        return reply

    async def _read_reply(self) -> AgiReply:
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == HANGUP_LINE:
                self.hung_up = True
                continue
            if not line:
                continue
            try:
                reply = parse_reply(line)
            except ValueError as exc:
                raise AgiCommandError(str(exc)) from exc
            if reply.code == 100:
                continue
            if reply.code == 520 and line[3:4] == "-":
                usage = [line]
                while not usage[-1].startswith("520 "):
                    more = await self._reader.readline()
                    if not more:
                        break
                    usage.append(more.decode("utf-8", "replace").rstrip("\r\n"))
                return AgiReply(code=520, text="\n".join(usage))
            return reply

    # --- the commands the journey uses -------------------------------------------------

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def hangup(self) -> None:
        await self.command("HANGUP")

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {name}")
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """Evaluate an expression with functions, e.g. ``${CONFBRIDGE_INFO(parties,conf-1)}``."""
        reply = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return reply.data if reply.result == "1" else None

    async def exec(self, app: str, args: str = "") -> AgiReply:
        """Run a dialplan application. ``result=-1`` means the channel is gone or the app failed."""
        return await self.command(f"EXEC {app} {quote(args)}" if args else f"EXEC {app}")

    async def stream_file(self, sound: str, escape_digits: str = "") -> str:
        """Play a sound; returns the digit that interrupted it, or ''.

        A sound that cannot be played (``result=-1`` on a live channel) is skipped: a
        missing recording must not end the call. A gone caller shows on the next command.
        """
        reply = await self.command(f"STREAM FILE {sound} {quote(escape_digits)}")
        if reply.result_int < 0:
            log.warning("agi.sound_failed", sound=sound)
            return ""
        return chr(reply.result_int) if reply.result_int > 0 else ""

    async def read_digits(self, prompts: list[str], max_digits: int, timeout_s: float) -> tuple[str, str]:
        """Play prompts and collect up to ``max_digits`` digits (``#`` ends early).

        Returns (digits, status) where status is Read()'s READSTATUS: OK, TIMEOUT, HANGUP...
        """
        var = "DIALCONF_DIGITS"
        await self.exec("Read", f"{var},{'&'.join(prompts)},{max_digits},,1,{timeout_s:g}")
        digits = await self.get_variable(var) or ""
        if digits:
            return digits, "OK"
        status = await self.get_variable("READSTATUS") or "ERROR"
        if status == "HANGUP":
            raise AgiHangup("caller hung up while keying digits")
        return digits, status
