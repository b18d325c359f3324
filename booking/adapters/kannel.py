"""The Kannel SMS gateway: its configuration, its two processes, and sending through it.

bearerbox holds the SMSC link (the fake SMSC for now) and a store file, so an SMS it has taken
survives a crash; smsbox forwards every incoming SMS to the booking service over HTTP and
offers ``/cgi-bin/sendsms``, through which our replies go out. Kannel itself never answers
an SMS: the booking service decides what to reply and sends it with ``KannelSmsGateway``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from booking.adapters.kept_secret import kept_secret
from booking.adapters.leftovers import end_leftovers, forget, remember
from booking.domain.errors import DeliveryError, KannelError, Undeliverable
from booking.settings import KannelSettings

log = structlog.get_logger(__name__)

# GSM 03.38: the basic set, and the extension set whose characters take two septets.
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = "\f^{}\\[~]|€"
_GSM7 = frozenset(_GSM_BASIC + _GSM_EXTENSION)


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM 7-bit alphabet (else the SMS must be UCS-2)."""
    return all(ch in _GSM7 for ch in text)


def sms_parts(text: str) -> int:
    """How many concatenated SMS the text takes (160/153 septets, or 70/67 UCS-2 units)."""
    if is_gsm7(text):
        units, single, part = len(text) + sum(ch in _GSM_EXTENSION for ch in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-be")) // 2, 70, 67
    return 1 if units <= single else -(-units // part)


@dataclass(frozen=True)
class KannelSecrets:
    admin_password: str
    password: str  # of the sendsms user
    incoming_key: str  # smsbox appends it to every forward: only Kannel knows it

    @classmethod
    def load(cls, settings: KannelSettings, directory: Path) -> KannelSecrets:
        """The configured secrets, or ones generated once and kept (0600) in ``directory``."""
        return cls(
            admin_password=kept_secret(directory / "kannel-admin.secret"),
            password=settings.password or kept_secret(directory / "kannel-sendsms.secret"),
            incoming_key=settings.incoming_key or kept_secret(directory / "kannel-incoming.key"),
        )


def render_kannel_conf(settings: KannelSettings, secrets: KannelSecrets, instance_dir: Path) -> str:
    s, d = settings, instance_dir.resolve()
    sep = "&" if "?" in s.incoming_url else "?"
    # %p sender, %P receiver, %a the whole text (words joined by one space), %I Kannel's message
    # id: it stays the same when bearerbox redelivers a stored message, so it deduplicates.
    url = f"{s.incoming_url}{sep}sender=%p&receiver=%P&text=%a&id=%I&key={secrets.incoming_key}"
    return f"""# Rendered by dialconf (booking/adapters/kannel.py) at every start; edits are lost.
group = core
admin-port = {s.admin_port}
admin-interface = "{s.host}"
admin-password = "{secrets.admin_password}"
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "{s.host}"
smsbox-port = {s.smsbox_port}
smsbox-interface = "{s.host}"
box-deny-ip = "*.*.*.*"
box-allow-ip = "{s.host}"
log-file = "{d}/bearerbox.log"
log-level = 1
access-log = "{d}/access.log"
# Kannel's default line ends with the text ([msg:%L:%b]): replies carry PINs, never logged.
access-log-format = "%l [SMSC:%i] [SVC:%n] [ACT:%A] [FID:%F] [from:%p] [to:%P] [id:%I] [len:%L] [udh:%U]"
# Every SMS bearerbox takes is written here until smsbox acknowledges it: a crash loses none.
store-type = file
store-location = "{d}/kannel.store"

group = smsc
smsc = {s.smsc}
smsc-id = {s.smsc}
port = {s.fake_smsc_port}
our-host = "{s.host}"
connect-allow-ip = "{s.host}"

group = smsbox
bearerbox-host = "{s.host}"
bearerbox-port = {s.smsbox_port}
sendsms-interface = "{s.host}"
sendsms-port = {s.sendsms_port}
# No blank: a blank in 'to' would send one text to several numbers.
sendsms-chars = "0123456789+"
# Phones send diacritics as UCS-2; recoded to UTF-8 here so %a is readable text.
mo-recode = true
http-request-retry = {s.http_retries}
http-queue-delay = {s.http_retry_delay_s}
log-file = "{d}/smsbox.log"
# Not below 2 (warning) in service: at 1 (info) smsbox logs every sendsms text, and replies carry PINs.
log-level = {s.smsbox_log_level}
# No global-sender: smsbox would put it in place of %P, the number the phone wrote to.

group = sendsms-user
username = "{s.username}"
password = "{secrets.password}"
user-deny-ip = "*.*.*.*"
user-allow-ip = "{s.host}"
default-sender = "{s.sender}"
max-messages = {s.max_parts}
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{url}"
alt-charset = "UTF-8"
# Kannel sends no reply of its own, not even on errors: the booking service replies itself.
omit-empty = true
max-messages = 0
"""


class KannelProcess:
    """bearerbox and smsbox as our children, each in its own process group."""

    def __init__(self, settings: KannelSettings) -> None:
        self.settings = settings
        self.instance_dir: Path | None = None
        self.secrets: KannelSecrets | None = None
        self.bearerbox: subprocess.Popen[bytes] | None = None
        self.smsbox: subprocess.Popen[bytes] | None = None

    def start(self, instance_dir: Path) -> Self:
        if self.is_running():
            raise KannelError("kannel already runs")
        self.stop()  # what is left of a pair where one box died
        instance_dir.mkdir(parents=True, exist_ok=True)
        self.instance_dir, s = instance_dir, self.settings
        self.secrets = KannelSecrets.load(s, instance_dir)
        conf = instance_dir / "kannel.conf"
        # A Kannel of this instance whose parent was killed hard still holds the ports.
        end_leftovers(instance_dir, ("smsbox", "bearerbox"), str(conf.resolve()), s.stop_timeout_s)
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the passwords
        with os.fdopen(fd, "w") as fh:
            fh.write(render_kannel_conf(s, self.secrets, instance_dir))
        deadline = time.monotonic() + s.start_timeout_s
        try:
            self.bearerbox = self._spawn(s.binaries.bearerbox, conf)
            self._wait(deadline, "admin status", lambda: self.status() is not None)
            self.smsbox = self._spawn(s.binaries.smsbox, conf)
            self._wait(deadline, "sendsms port", lambda: _accepts(s.host, s.sendsms_port))
            self._wait(deadline, "smsbox connection", lambda: "smsbox:" in (self.status() or ""))
        except BaseException:
            self.stop()
            raise
        log.info("kannel.started", bearerbox=self.bearerbox.pid, smsbox=self.smsbox.pid)
        return self

    def _spawn(self, binary: Path, conf: Path) -> subprocess.Popen[bytes]:
        assert self.instance_dir is not None
        with (self.instance_dir / f"{binary.name}.out").open("ab") as out:
            # -v 2: only warnings on the console log; the full log is log-file in the config.
            proc = subprocess.Popen(
                [str(binary), "-v", "2", str(conf.resolve())],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop them in order
            )
        remember(self.instance_dir, binary.name, proc.pid)
        return proc

    def _wait(self, deadline: float, what: str, ready: Callable[[], bool]) -> None:
        while time.monotonic() < deadline:
            for name, proc in (("bearerbox", self.bearerbox), ("smsbox", self.smsbox)):
                if proc is not None and proc.poll() is not None:
                    raise KannelError(f"{name} exited with {proc.returncode}; see {self.instance_dir}")
            if ready():
                return
            time.sleep(0.05)
        timeout = self.settings.start_timeout_s
        raise KannelError(f"kannel: no {what} after {timeout}s; see {self.instance_dir}")

    def status(self) -> str | None:
        """bearerbox's status page (boxes, SMSC links, store size), or None when it does not answer."""
        if self.secrets is None:
            return None
        s = self.settings
        query = urllib.parse.urlencode({"password": self.secrets.admin_password})
        try:
            with urllib.request.urlopen(f"http://{s.host}:{s.admin_port}/status?{query}", timeout=2) as r:
                return str(r.read().decode("utf-8", "replace"))
        except (OSError, urllib.error.URLError):
            return None

    def is_running(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self.bearerbox, self.smsbox))

    def stop(self) -> None:
        """SIGTERM smsbox, then bearerbox (each shuts down cleanly); SIGKILL what outlives the timeout."""
        running = [p for p in (self.smsbox, self.bearerbox) if p is not None and p.poll() is None]
        for proc in running:
            _signal(proc, signal.SIGTERM)
            try:
                proc.wait(self.settings.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("kannel.stop_kill", pid=proc.pid)
                _signal(proc, signal.SIGKILL)
                proc.wait(self.settings.stop_timeout_s)
        self.smsbox = self.bearerbox = None
        if self.instance_dir is not None:
            for name in ("smsbox", "bearerbox"):
                forget(self.instance_dir, name)
        if running:
            log.info("kannel.stopped", pids=[p.pid for p in running])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        with contextlib.suppress(OSError):
            proc.send_signal(sig)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class KannelSmsGateway:
    """``SmsGateway`` through Kannel's sendsms interface (standard library only)."""

    def __init__(self, settings: KannelSettings, password: str, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.password = password
        self.timeout_s = timeout_s

    def send_sms(self, to: str, text: str) -> None:
        s = self.settings
        if sms_parts(text) > s.max_parts:  # Kannel would cut it silently
            raise Undeliverable(f"text takes {sms_parts(text)} SMS, more than {s.max_parts}")
        query = {"username": s.username, "password": self.password, "from": s.sender, "to": to}
        query |= {"text": text, "charset": "UTF-8"}
        if not is_gsm7(text):
            query["coding"] = "2"  # UCS-2: smsbox converts the UTF-8 text itself
        url = f"http://{s.host}:{s.sendsms_port}/cgi-bin/sendsms?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as reply:
                status, body = reply.status, reply.read().decode("utf-8", "replace").strip()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode("utf-8", "replace").strip()
        except OSError as e:  # refused, timed out: Kannel is down or busy
            raise DeliveryError(f"kannel sendsms unreachable: {e}") from e
        # 0: passed to the SMSC link; 3: stored by bearerbox until the link is back; "Sent.":
        # the reply of immediate-sendsms-reply. Any of them is Kannel's job from now on.
        if status in (200, 202) and body.startswith(("0:", "3:", "Sent.")):
            return
        raise DeliveryError(f"kannel sendsms answered {status}: {body}")
