"""No file Asterisk writes holds a keyed digit: a real call keys a PIN and joins, then every
file Asterisk wrote is read (its logs and console output, run, spool and database).

The control: an instance with the opt-in trace log (asterisk.trace_log, for the join-storm
benchmark) logs every key there, and the same search finds them: it would have found them in
the other files too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from booking.domain.model import Reservation
from conference_ivr.ami.events import ConfbridgeJoin
from conference_ivr.pbx.process import AsteriskProcess
from tests.support.poll import until
from tests.support.system import System, isolated_settings, running_asterisk, running_system

MARKER = "Queue Logger restarted"  # what `logger reload` writes: every earlier line is on disk


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[System]:
    base = isolated_settings(tmp_path, "trace")
    settings = base.model_copy(update={"asterisk": base.asterisk.model_copy(update={"trace_log": True})})
    async with running_asterisk(settings) as proc, running_system(settings, proc) as sysm:
        yield sysm


async def _call_with_pin(system: System) -> Reservation:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    caller = system.caller()
    await caller.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == caller.uniqueid)
    await caller.hangup()
    return r


async def _flushed(proc: AsteriskProcess) -> None:
    # The marker is a verbose line: in the trace log when that is on, else in the full log.
    trace = proc.instance.host("log", "trace")
    log = trace if trace.exists() else proc.instance.host("log", "full")
    before = log.read_text(errors="replace").count(MARKER)
    assert proc.rx("logger reload").returncode == 0
    await until(lambda: log.read_text(errors="replace").count(MARKER) > before, 10, "the logs flushed")


def _written_files(proc: AsteriskProcess) -> list[Path]:
    """What Asterisk wrote, but the trace log: etc/ is our rendered config, names/ audio."""
    base = proc.instance.host()
    return [
        p
        for sub in ("log", "run", "spool", "db")
        for p in sorted(base.joinpath(sub).rglob("*"))
        if p.is_file() and p.name != "trace"
    ]


def _leaks(path: Path, r: Reservation) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace")
    found = [line for line in text.splitlines() if "DTMF" in line or "User entered" in line]
    for secret in (r.room.pin, r.room.admin_pin):
        found += re.findall(rf"(?<!\d){secret}(?!\d)", text)
    return found


def _all_leaks(proc: AsteriskProcess, r: Reservation) -> dict[str, list[str]]:
    files = _written_files(proc)
    assert {"full", "messages", "console.log"} <= {p.name for p in files}
    return {str(p): found for p in files if (found := _leaks(p, r))}


async def test_a_pin_keyed_on_a_real_call_reaches_no_file_asterisk_writes(system: System) -> None:
    r = await _call_with_pin(system)
    await _flushed(system.asterisk)
    assert not _all_leaks(system.asterisk, r)
    assert not system.asterisk.instance.host("log", "trace").exists()


async def test_the_opt_in_trace_log_alone_holds_the_keys(traced: System) -> None:
    r = await _call_with_pin(traced)
    await _flushed(traced.asterisk)
    trace = traced.asterisk.instance.host("log", "trace")
    assert _leaks(trace, r), "the search finds keyed digits where they are logged"
    keys = "".join(re.findall(r"DTMF end '(.)' received", trace.read_text(errors="replace")))
    assert r.room.pin + "#" in keys
    assert not _all_leaks(traced.asterisk, r)
