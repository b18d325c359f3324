"""The booked end, in compressed time (1 real second = half a minute), on real Asterisk:
warning tone into every member and termination when the seats are needed; extension when not."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest

from booking.domain.clock import ScaledClock
from booking.domain.model import Reservation
from booking.settings import BookingSettings
from conference_ivr.ami.events import ConfbridgeEnd, ConfbridgeJoin, ConfbridgeLeave, Hangup
from conference_ivr.ivr.sounds import WARNING_TONE_HZ
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.system import System, isolated_settings, running_asterisk, running_system
from tests.support.tone import tone_windows

SPEED = 30.0  # clock seconds per real second
LEAD = timedelta(minutes=4)


@pytest.fixture(scope="module")
async def fast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    base = isolated_settings(tmp_path_factory.mktemp("lifecycle"), name="life")
    settings = base.model_copy(
        update={
            "controller": base.controller.model_copy(
                update={"warning_lead_minutes": 4, "extension_minutes": 6, "lifecycle_tick_s": 0.1}
            ),
            "booking": BookingSettings(system_capacity=10),
        }
    )
    async with (
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk, ScaledClock(datetime.now(UTC), SPEED)) as system,
    ):
        yield system


def metric(system: System, name: str, **labels: str) -> float:
    return system.controller.metrics.registry.get_sample_value(name, labels) or 0.0


async def until_clock(system: System, at: datetime) -> None:
    clock = system.clock
    assert isinstance(clock, ScaledClock)
    real = max(0.0, clock.real_seconds(at - clock.now()))
    await until(lambda: clock.now() >= at, real + 5, f"the clock at {at}")


async def test_warning_tone_then_termination_when_the_seats_are_needed(fast: System) -> None:
    now = fast.clock.now()
    # started 10 minutes ago, ends 16 minutes from now (32 s real: time for both to join);
    # another booking needs every seat right after it, so there is no extension
    conf = fast.booking.book(now - timedelta(minutes=10), 26, seats=5)
    assert conf.ends_at is not None
    records = [fast.asterisk.instance.inner("spool", f"heard-{i}") for i in range(2)]
    blocker = fast.booking.book(conf.ends_at, 30, seats=10)
    try:
        await _warned_and_closed(fast, conf, records)
    finally:
        assert blocker.id is not None
        fast.booking.cancel(blocker.id)  # give the seats back to the next test


async def _tone_when_written(heard: Path) -> list[float]:
    """MixMonitor finishes the file (its header's sizes) when it closes it, just after the
    hangup: read until the beeps are there or a deadline passes."""

    def beeps() -> list[float]:
        try:
            return tone_windows(heard, WARNING_TONE_HZ)
        except (FileNotFoundError, EOFError, wave.Error):
            return []

    def enough() -> list[float] | None:
        found = beeps()
        return found if len(found) >= 6 else None  # 3 x 0.25 s

    return await until(enough, 10, f"{WARNING_TONE_HZ} Hz beeps in {heard}")


def _of(c: LocalCaller) -> Predicate:
    return lambda e: e.get("Uniqueid") == c.uniqueid


async def _warned_and_closed(fast: System, conf: Reservation, records: list[PurePosixPath]) -> None:
    assert conf.ends_at is not None
    members = [fast.caller(record=str(r)) for r in records]
    for m in members:
        await m.join(conf.room.conference_number, conf.room.pin)
        await fast.events.wait_for_kind(ConfbridgeJoin, _of(m))
    bridge = names.bridge_name(conf.room.conference_number)

    await fast.events.wait_for(
        lambda e: e.get("UserEvent") == "DialconfPlay" and "dialconf/warning_tone" in e.get("Sound"),
        timeout=40,
    )
    warned_at = fast.clock.now()
    assert conf.ends_at - LEAD - timedelta(minutes=1) <= warned_at < conf.ends_at
    # at the end: the goodbye is said into the conference, then everyone is let go
    await fast.events.wait_for(
        lambda e: e.get("UserEvent") == "DialconfPlay" and "dialconf/conference_over" in e.get("Sound"),
        timeout=40,
    )
    said_at = fast.clock.now()
    assert conf.ends_at <= said_at <= conf.ends_at + timedelta(minutes=1)
    await fast.events.wait_for(lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=20)
    assert metric(fast, "dialconf_extensions_total", result="denied") >= 1
    assert metric(fast, "dialconf_terminations_total") >= 1

    # every member heard the beeps, a few seconds before the end
    for m, inner in zip(members, records, strict=True):
        await fast.events.wait_for_kind(Hangup, _of(m))
        heard = fast.asterisk.instance.install.host_path(inner.with_name(inner.name + "-heard.wav"))
        assert await _tone_when_written(Path(heard)), f"nothing in what {m.uniqueid} heard"


async def test_extended_when_capacity_allows(fast: System) -> None:
    now = fast.clock.now()
    conf = fast.booking.book(now - timedelta(minutes=10), 20, seats=5)  # ends in 10 minutes (20 s)
    assert conf.ends_at is not None and conf.id is not None
    member = fast.caller()
    await member.join(conf.room.conference_number, conf.room.pin)
    await fast.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == member.uniqueid)
    bridge = names.bridge_name(conf.room.conference_number)

    await until_clock(fast, conf.ends_at + timedelta(minutes=1))  # past the booked end
    assert fast.controller.live.members.get(bridge) == {member.uniqueid}  # still in
    extended = fast.services.dialin.current_reservation(conf.room.conference_number)
    assert extended is not None and extended.ends_at == conf.ends_at + timedelta(minutes=6)
    assert not fast.events.matching(
        lambda e: (
            e.get("UserEvent") == "DialconfPlay"
            and e.get("Bridge") == bridge
            and "warning_tone" in e.get("Sound")
        )
    )
    assert metric(fast, "dialconf_extensions_total", result="granted") >= 1
    # the session ends when its last member leaves
    await member.hangup()
    await fast.events.wait_for(lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == member.uniqueid)
    await fast.events.wait_for(lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge)
