"""Kannel for tests: a real bearerbox + smsbox on free ports, and a fake phone on its fake SMSC.

The phone is Kannel's own test program ``fakesmsc`` (Debian's kannel-extras). Sent SMS are
typed into it; what bearerbox delivers to the SMSC link it prints, and we read that back.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import termios
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from booking.adapters.kannel import (
    KannelProcess,
    KannelSecrets,
    KannelSmsGateway,
    is_gsm7,
)
from booking.settings import KannelSettings
from tests.support.poll import until_sync
from tests.support.ports import free_ports

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")  # `dpkg -L kannel-extras`
_GOT = re.compile(r"Got message \d+: <(.*)>$")
_MAX_LINE = 254  # fakesmsc reads stdin with fgets() into 256 bytes


class Sms(NamedTuple):
    sender: str
    receiver: str
    text: str


class FakePhone:
    """fakesmsc in interactive mode, typed into through a pseudo-terminal.

    fakesmsc select()s on stdin and then fgets() one line: from a pipe, two lines arriving
    together leave the second in stdio's buffer, unseen until more input comes. A terminal in
    canonical mode hands out one line per read(), so every line is taken at once. Lines
    bearerbox sends back are printed as ``Got message N: <from to type data>`` (debug level),
    read at most a second late (fakesmsc's stdin timeout).
    """

    def __init__(self, host: str, port: int, log_path: Path, binary: Path = FAKESMSC) -> None:
        self.host, self.port, self.log_path, self.binary = host, port, log_path, binary
        self._master: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._messages: list[Sms] = []
        self._parts: dict[tuple[str, str, int], dict[int, bytes]] = {}
        self._changed = threading.Condition()

    def start(self) -> None:
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[0] &= ~(termios.ICRNL | termios.IXON | termios.ISTRIP)  # bytes pass as typed
        attrs[3] &= ~(termios.ECHO | termios.ISIG | termios.IEXTEN)  # keep ICANON: line by line
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._master = master
        cmd = [str(self.binary), "-H", self.host, "-r", str(self.port), "-i", "0", "-v", "0"]
        self._proc = subprocess.Popen(
            cmd, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="fakesmsc-reader", daemon=True)
        self._reader.start()

    def send(self, sender: str, receiver: str, text: str) -> None:
        """A mobile-originated SMS: GSM text as typed, anything else as UCS-2 (as phones do)."""
        assert self._master is not None, "phone not started"
        if is_gsm7(text) and not set(text) & set("\r\n"):
            line = f"{sender} {receiver} text {text}"
        else:
            line = f"{sender} {receiver} ucs2 {urllib.parse.quote_from_bytes(text.encode('utf-16-be'))}"
        data = line.encode()
        if len(data) > _MAX_LINE or " " in sender + receiver:
            raise ValueError(f"fakesmsc cannot send {line!r}")
        os.write(self._master, data + b"\n")

    def received(self, timeout: float = 0.0) -> list[Sms]:
        """Every SMS delivered to the phone so far, waiting up to ``timeout`` for a first one."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._messages), timeout)
            return list(self._messages)

    def wait_for(self, predicate: Callable[[Sms], bool], timeout: float = 15.0) -> Sms:
        found: list[Sms] = []

        def match() -> bool:
            found[:] = [m for m in self._messages if predicate(m)]
            return bool(found)

        with self._changed:
            if not self._changed.wait_for(match, timeout):
                raise AssertionError(f"no matching SMS in {timeout}s; phone got {self._messages}")
        return found[0]

    def stop(self) -> None:
        if self._master is not None:
            os.close(self._master)  # fakesmsc reads EOF on its terminal and ends
            self._master = None
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._reader is not None:
            self._reader.join(5)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()  # the reader read it to its end

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in self._proc.stdout:
                log.write(raw)
                log.flush()
                got = _GOT.search(raw.decode("utf-8", "replace").rstrip("\n"))
                if got:
                    with self._changed:
                        self._take(got.group(1))
                        self._changed.notify_all()

    def _take(self, line: str) -> None:
        fields = line.split(" ", 3)
        if len(fields) < 4 or fields[2] not in ("text", "data", "ucs-2", "udh"):
            # smsc_fake writes 7-bit text raw, so a newline in it splits the SMS into lines.
            if self._messages and fields:
                last = self._messages[-1]
                self._messages[-1] = last._replace(text=f"{last.text}\n{line}")
            return
        sender, receiver, kind, rest = fields
        if kind == "text":
            self._messages.append(Sms(sender, receiver, rest))
        elif kind == "data":
            self._messages.append(Sms(sender, receiver, _decode(_unquote(rest))))
        elif kind == "ucs-2":
            self._messages.append(Sms(sender, receiver, _unquote(rest).decode("utf-16-be")))
        else:  # one part of a concatenated SMS: "udh <udh> data <payload>"
            udh, _, payload = rest.partition(" data ")
            ref, total, seq = _concatenation(_unquote(udh))
            parts = self._parts.setdefault((sender, receiver, ref), {})
            parts[seq] = _unquote(payload)
            if len(parts) == total:
                del self._parts[(sender, receiver, ref)]
                data = b"".join(parts[i] for i in sorted(parts))
                self._messages.append(Sms(sender, receiver, _decode(data)))


def _unquote(text: str) -> bytes:
    return urllib.parse.unquote_to_bytes(text.replace("+", " "))  # Kannel encodes ' ' as '+'


def _decode(data: bytes) -> str:
    # A concatenated part does not say its coding. Kannel keeps 7-bit text as UTF-8, and the
    # gateway sends UCS-2 only for text outside GSM 7-bit: so GSM-only UTF-8 means 7-bit.
    with contextlib.suppress(UnicodeDecodeError):
        text = data.decode("utf-8")
        if is_gsm7(text):
            return text
    return data.decode("utf-16-be")


def _concatenation(udh: bytes) -> tuple[int, int, int]:
    """(reference, total, sequence) from a UDH's concatenation element (8- or 16-bit reference)."""
    i = 1
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        body = udh[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3:
            return body[0], body[1], body[2]
        if iei == 0x08 and length == 4:
            return (body[0] << 8) | body[1], body[2], body[3]
        i += 2 + length
    raise ValueError(f"no concatenation element in UDH {udh.hex()}")


def phone_connected(process: KannelProcess) -> bool:
    """bearerbox shows the fake SMSC link online once fakesmsc has connected."""
    status = process.status() or ""
    return re.search(rf"FAKE:{process.settings.fake_smsc_port} \(online", status) is not None


def kannel_settings(incoming_url: str, **overrides: Any) -> KannelSettings:
    admin, box, smsc, sendsms = free_ports(4)
    ports = {"admin_port": admin, "smsbox_port": box, "fake_smsc_port": smsc, "sendsms_port": sendsms}
    return KannelSettings(incoming_url=incoming_url, start_timeout_s=30, **(ports | overrides))


@dataclass
class RunningKannel:
    process: KannelProcess
    secrets: KannelSecrets
    phone: FakePhone
    gateway: KannelSmsGateway
    instance_dir: Path

    def log(self, name: str) -> str:
        path = self.instance_dir / name
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running_kannel(tmp_dir: Path, incoming_url: str, **overrides: Any) -> Iterator[RunningKannel]:
    """Kannel on free ports with a fake phone connected to its fake SMSC; all stopped after."""
    settings = kannel_settings(incoming_url, **overrides)
    with KannelProcess(settings).start(tmp_dir) as process:
        assert process.secrets is not None
        phone = FakePhone(settings.host, settings.fake_smsc_port, tmp_dir / "fakesmsc.log")
        try:
            phone.start()
            until_sync(lambda: phone_connected(process), 15, "fakesmsc to connect")
            gateway = KannelSmsGateway(settings, process.secrets.password)
            yield RunningKannel(process, process.secrets, phone, gateway, tmp_dir)
        finally:
            phone.stop()
