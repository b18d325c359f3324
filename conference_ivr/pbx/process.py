"""Start Asterisk, wait until it is fully booted, and stop it cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

import structlog

from conference_ivr.errors import AsteriskProcessError
from conference_ivr.pbx.instance import AsteriskInstance

log = structlog.get_logger(__name__)


@dataclass
class AsteriskProcess:
    instance: AsteriskInstance
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def rx(self, command: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        """Run one CLI command against the running instance (``asterisk -rx``)."""
        return subprocess.run(
            self.instance.asterisk_cmd("-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pid(self) -> int | None:
        path = self.instance.host("run", "asterisk.pid")
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None and self.rx("core show version", timeout=5).returncode == 0

    def start(self, detach: bool = False) -> None:
        """Render the config and start Asterisk in the foreground mode (``-f``) as a child."""
        if self.is_running():
            raise AsteriskProcessError(f"instance {self.instance.settings.asterisk.instance!r} already runs")
        self.instance.render()
        logfile = self.instance.host("log", "console.log").open("ab")
        self.proc = subprocess.Popen(
            self.instance.asterisk_cmd("-f", "-n", "-q"),
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal goes to us; we stop it in order
        )
        logfile.close()
        try:
            self.wait_booted(self.instance.settings.asterisk.boot_timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info("asterisk.started", pid=self.proc.pid, instance=self.instance.settings.asterisk.instance)
        if detach:
            self.proc = None

    def wait_booted(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AsteriskProcessError(f"asterisk exited with {self.proc.returncode}; see {self._log()}")
            res = self.rx("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
            if res.returncode == 0 and "fully booted" in res.stdout.lower():
                return
            last = (res.stdout + res.stderr).strip()
            time.sleep(0.05)
        raise AsteriskProcessError(f"asterisk not fully booted after {timeout}s ({last}); see {self._log()}")

    def _log(self) -> str:
        return str(self.instance.host("log", "console.log"))

    def stop(self) -> None:
        """Stop gracefully (``core stop now``), then by signal; never leave a process behind."""
        timeout = self.instance.settings.asterisk.stop_timeout_s
        pid = self.proc.pid if self.proc is not None else self.pid()
        if pid is None:
            return
        self.rx("core stop now", timeout=timeout)
        if not self._wait_gone(pid, timeout):
            log.warning("asterisk.stop_signal", pid=pid)
            self._signal(pid, signal.SIGTERM)
            if not self._wait_gone(pid, timeout):
                self._signal(pid, signal.SIGKILL)
                self._wait_gone(pid, timeout)
        self.proc = None
        log.info("asterisk.stopped", pid=pid)

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.pid == pid:
                if self.proc.poll() is not None:
                    return True
            else:
                try:
                    os.kill(pid, 0)
                except OSError:
                    return True
                # A detached child of another process may linger as a zombie; /proc tells.
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        if fh.read().split()[2] == "Z":
                            return True
                except OSError:
                    return True
            time.sleep(0.05)
        return False
