"""Both /metrics endpoints of a running system: the controller's passes ``promtool check
metrics`` (Prometheus' own linter: naming, units, _total, HELP), and Asterisk's res_prometheus
serves its core, channel and bridge metrics on Asterisk's HTTP port, on loopback only."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from conference_ivr.ami.events import ConfbridgeJoin
from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import parse_conf_file
from tests.support.poll import until, until_async
from tests.support.system import System
from tests.unit.test_metrics_grafana import ASTERISK_METRICS

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"  # Debian's prometheus package


async def promtool_check(text: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        PROMTOOL,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(text.encode()), 30)
    return proc.returncode or 0, out.decode()


def asterisk_samples(text: str) -> dict[str, list[tuple[str, float]]]:
    """Sample name -> [(labels, value)], read line by line: res_prometheus types some gauges as
    counters without _total, which prometheus_client's strict parser renames or drops."""
    found: dict[str, list[tuple[str, float]]] = {}
    for m in re.finditer(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$", text, flags=re.M):
        found.setdefault(m.group(1), []).append((m.group(2) or "", float(m.group(3))))
    return found


async def get(url: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.text


async def test_the_controllers_metrics_pass_promtool_with_every_series_present(system: System) -> None:
    # The controller keeps the booking gauges fresh by itself (a job beside it).
    r = system.booking.book(datetime.now(UTC), 60, seats=4)
    caller = system.caller()
    await caller.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == caller.uniqueid)
    sample = system.controller.metrics.registry.get_sample_value
    await until(lambda: sample("dialconf_members_live"), what="a live member")
    await until(lambda: sample("dialconf_seats_capacity"), 20, "the booking gauges")
    try:
        text = await get(f"http://127.0.0.1:{system.controller.metrics_port}/metrics")
        code, problems = await promtool_check(text)
        assert code == 0 and problems.strip() == "", problems
        present = {f.name for f in text_string_to_metric_families(text)}
        for name in (
            "dialconf_seats_reserved",
            "dialconf_seats_capacity",
            "dialconf_pin_lockouts_active",
            "dialconf_booking_figures_timestamp_seconds",
            "dialconf_members_live",
            "dialconf_conferences_live",
            "dialconf_ami_up",
            "dialconf_ami_reconnects",
            "dialconf_join_failures",
            "dialconf_extensions",
            "dialconf_terminations",
            "dialconf_moderator_ends",
            "dialconf_mobile_cuts",
        ):
            assert name in present, name
        assert 'dialconf_seats_reserved{horizon="4h"}' in text
    finally:
        await caller.hangup()
        system.booking.cancel(r.id or 0)


async def test_asterisk_serves_its_own_metrics_on_loopback(system: System) -> None:
    a = system.settings.asterisk
    http_conf = parse_conf_file(system.asterisk.instance.host("etc", "http.conf"))["general"]
    assert (http_conf.get("bindaddr"), http_conf.get("bindport")) == ("127.0.0.1", str(a.http_port))
    url = f"http://127.0.0.1:{a.http_port}/metrics"
    text = await get(url)
    assert "asterisk_core_uptime_seconds" in text
    # the names the Grafana dashboard uses are the names Asterisk serves
    assert set(asterisk_samples(text)) >= ASTERISK_METRICS

    r = system.booking.book(datetime.now(UTC), 60, seats=4)
    bridge = names.bridge_name(r.room.conference_number)
    caller = system.caller()
    await caller.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == caller.uniqueid)
    try:
        # metrics are built at scrape time: poll until the conference's bridge is in them
        async def with_bridge() -> str | None:
            text = await get(url)
            return text if f'name="{bridge}"' in text else None

        seen = await until_async(with_bridge, 10, "the conference's bridge in the metrics")
        samples = asterisk_samples(seen)
        ours = [v for labels, v in samples["asterisk_bridges_channels_count"] if f'name="{bridge}"' in labels]
        assert ours and ours[0] >= 1  # the member (and ConfBridge's announcer channel)
        assert 'creator="ConfBridge"' in seen
        assert samples["asterisk_channels_count"][0][1] >= 1
    finally:
        await caller.hangup()
        system.booking.cancel(r.id or 0)
