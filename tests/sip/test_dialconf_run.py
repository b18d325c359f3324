"""`dialconf run` (what `make run` starts): the banner names every page and each answers; its demo
room takes a SIP call; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
from pathlib import Path

import httpx

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import ConfbridgeJoin
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.provision import locate
from tests.support.events import EventLog
from tests.support.ports import free_ports
from tests.support.sipp import run_sipp, scenario
from tests.support.system import isolated_settings, settings_env


async def _read_banner(stdout: asyncio.StreamReader, timeout: float = 60) -> str:
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while not lines or not lines[-1].startswith("Book another"):
            line = await stdout.readline()
            assert line, "dialconf run exited before printing its banner:\n" + "".join(lines)
            lines.append(line.decode())
    return "".join(lines)


PAGES = ["/docs", "/openapi.json", "/panel", "/panel/reservations/<id>/live", "/panel/login", "/dashboard"]
PAGES += ["/join"]  # join from a browser (issue 20)
PAGES += ["/metrics"]  # the controller's


async def _every_page_answers(banner: str) -> None:
    """Each page the banner names answers (a page behind a sign-in leads to its sign-in form)."""
    urls = re.findall(r"http://[0-9.:]+/[^\s),]*", banner)
    assert sorted({u.split("/", 3)[3] for u in urls}) == sorted(p.lstrip("/") for p in PAGES), banner
    reservation = re.search(r"reservation: (\d+)", banner)
    assert reservation, banner
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        for url in urls:
            answer = await client.get(url.replace("<id>", reservation.group(1)))
            assert answer.status_code == 200, (url, answer.status_code)


async def test_dialconf_run_serves_the_demo_room_and_stops_cleanly(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, name="run")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conference_ivr", "run",
        env=settings_env(settings), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    events = EventLog()
    ami: AmiClient | None = None
    try:
        banner = await _read_banner(proc.stdout)  # type: ignore[arg-type]
        assert f"sip:8000@127.0.0.1:{settings.asterisk.sip_port}" in banner
        number = re.search(r"conference number: (\d+)", banner)
        pin = re.search(r"\bPIN: (\d+)", banner)
        assert number and pin, banner
        await _every_page_answers(banner)

        a = settings.asterisk
        secret = AsteriskInstance(locate(a), settings).ami_secret()
        ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, secret)
        ami.on_event(events.add)
        await ami.connect(wait_s=10)

        sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
        steps = [(2.5, "1"), (1.0, number.group(1) + "#"), (1.0, pin.group(1) + "#"), (5.0, "#")]
        xml = scenario(steps, tmp_path, hold_s=8, caller="+420604000004")
        result = await run_sipp(xml, tmp_path, "8000", f"127.0.0.1:{a.sip_port}", sip_port, media_port)
        assert result.returncode == 0, result.output[-2000:]
        joins = events.matching(lambda e: isinstance(e, ConfbridgeJoin) and e.channel.startswith("PJSIP/"))
        assert len(joins) == 1
    finally:
        if ami is not None:
            await ami.close()
        proc.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0
    instance = AsteriskInstance(locate(settings.asterisk), settings)
    pidfile = instance.host("run", "asterisk.pid")
    if pidfile.exists():
        pid = int(pidfile.read_text())
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    shutil.rmtree(instance.host(), ignore_errors=True)  # it lives in the shared cached root
