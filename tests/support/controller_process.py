"""The controller as its own process (`dialconf serve`), to be killed hard and started again.

It gets the test's settings through the environment (``settings_env``), the clock included:
with ``settings.clock`` set (speed and epoch), the child and the test read the same compressed
time (``EpochScaledClock``), however often the child is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from conference_ivr.settings import Settings
from tests.support.poll import until_async
from tests.support.system import settings_env

# No SMS gateway or mail intake to be orphaned by each kill -9: these tests are about calls.
QUIET_MESSAGING = {"DIALCONF_MESSAGING__SMS": "false", "DIALCONF_MESSAGING__MAIL__INTAKE": "false"}


class ControllerProcess:
    """`dialconf serve` as a child process that can be SIGKILLed and started again.

    What the child writes goes to ``log`` (appended over every start), so a failing test can
    show why the controller did not come up or what it did last.
    """

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        if settings.clock.speed != 1 and settings.clock.epoch is None:
            # the child would count from its own start: its time and the test's would differ
            raise ValueError("a compressed clock shared with a child needs an epoch (settings.clock.epoch)")
        self.settings = settings
        self.env = {**QUIET_MESSAGING, **settings_env(settings), **(env or {})}
        self.log: Path = settings.data_dir / "controller.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 20) -> None:
        """Start the child and wait until its /healthz says it is logged in to AMI."""
        assert self.proc is None, "already running"
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            # its own session: a kill of the group takes every thread and child with it
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "conference_ivr", "serve",
                env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        proc = self.proc
        url = f"http://127.0.0.1:{self.settings.controller.metrics_port}/healthz"
        async with httpx.AsyncClient() as http:

            async def up() -> bool:
                if proc.returncode is not None:
                    raise AssertionError(f"the controller exited ({proc.returncode}):\n{self.log_tail()}")
                try:
                    return bool((await http.get(url, timeout=1)).json().get("ami"))
                except (httpx.HTTPError, ValueError):
                    return False

            await until_async(up, timeout, "the controller up, logged in to AMI")

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, whatever the controller was doing (a child that
        already died is only reaped)."""
        assert self.proc is not None, "not started"
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it died just now
                os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        self.proc = None

    async def stop(self, timeout: float = 20) -> None:
        """SIGTERM, as an operator stops it; a child that does not stop in time is killed."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
