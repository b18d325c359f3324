"""The booking API (with the web pages) in a process of its own, composed by ``build_api`` and
served by ``api_server.api_config`` exactly as ``dialconf serve`` serves it, settings from the
environment. Its pid lets a test read the server's memory (/proc/<pid>/status).

    python -m tests.support.api_process      (reads DIALCONF_* like dialconf)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.poll import until_sync
from tests.support.ports import free_ports

OPERATOR_TOKEN = "operator-token-of-the-api-process"


@dataclass(frozen=True)
class ApiProcess:
    pid: int
    host: str
    port: int

    def status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` figure in bytes (VmRSS, VmHWM...)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == field:
                number, unit = value.split()
                assert unit == "kB"
                return int(number) * 1024
        raise KeyError(field)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def api_process(tmp: Path, **env: str) -> Iterator[ApiProcess]:
    """``env``: more DIALCONF_* settings (e.g. DIALCONF_API__LIMITS__MAX_BODY_BYTES)."""
    (port,) = free_ports(1)
    settings = {
        "DIALCONF_DATA_DIR": str(tmp),
        "DIALCONF_DATABASE_URL": f"sqlite:///{tmp / 'booking.db'}",
        "DIALCONF_API__PORT": str(port),
        "DIALCONF_API__OPERATOR_TOKEN": OPERATOR_TOKEN,
        **env,
    }
    log = (tmp / "api-process.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.api_process"],
        env={**os.environ, **settings},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:

        def accepting() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the API process exited: {(tmp / 'api-process.log').read_text()}")
            return _accepts("127.0.0.1", port)

        until_sync(accepting, 30, "the API process accepting connections")
        yield ApiProcess(proc.pid, "127.0.0.1", port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def main() -> None:
    import uvicorn

    from booking.store.migrate import upgrade
    from conference_ivr.dialconf.api_server import api_config
    from conference_ivr.dialconf.compose import build_api
    from conference_ivr.dialconf.services import build_services
    from conference_ivr.settings import Settings

    settings = Settings()
    upgrade(settings.database_url)
    app = build_api(build_services(settings))
    uvicorn.Server(api_config(app, settings.api)).run()


if __name__ == "__main__":
    main()
