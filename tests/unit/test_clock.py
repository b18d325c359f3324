"""The clocks, and which one a process gets from its settings (DIALCONF_CLOCK__*)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from booking.domain.clock import EpochScaledClock, SystemClock
from conference_ivr.dialconf.services import build_services, clock_from
from conference_ivr.settings import ClockSettings, Settings

EPOCH = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Wall:
    """time.time() as a test sets it."""

    def __init__(self, at: datetime) -> None:
        self.t = at.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DIALCONF_"):
            monkeypatch.delenv(name)


def test_epoch_clock_runs_factor_times_faster_from_its_epoch() -> None:
    wall = Wall(EPOCH)
    clock = EpochScaledClock(EPOCH, 30, wall)
    assert clock.now() == EPOCH
    wall.t += 2  # two real seconds: one minute of this clock
    assert clock.now() == EPOCH + timedelta(minutes=1)
    assert clock.real_seconds(timedelta(minutes=8)) == 16


def test_two_clocks_made_at_different_moments_agree() -> None:
    """What a test and the controller it starts later (or again after kill -9) rely on."""
    wall = Wall(EPOCH + timedelta(seconds=5))
    early = EpochScaledClock(EPOCH, 30, wall)
    wall.t += 7
    late = EpochScaledClock(EPOCH, 30, wall)  # a process started 7 real seconds later
    assert early.now() == late.now() == EPOCH + timedelta(seconds=12 * 30)
    wall.t += 1
    assert early.now() == late.now()


def test_epoch_clock_reads_the_real_wall_clock_by_default() -> None:
    now = datetime.now(UTC)
    clock = EpochScaledClock(now, 1)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.now().tzinfo == UTC


def test_epoch_in_another_zone_is_the_same_instant() -> None:
    prague = EPOCH.astimezone(timezone(timedelta(hours=1)))
    assert EpochScaledClock(prague, 10, Wall(EPOCH)).now() == EPOCH


def test_epoch_clock_refuses_a_naive_epoch_and_a_stopped_clock() -> None:
    with pytest.raises(ValueError, match="time zone"):
        EpochScaledClock(datetime(2025, 3, 1), 30)
    with pytest.raises(ValueError, match="forwards"):
        EpochScaledClock(EPOCH, 0)


def test_settings_default_to_the_system_clock() -> None:
    s = Settings()
    assert s.clock.speed == 1 and s.clock.epoch is None
    assert isinstance(clock_from(s.clock), SystemClock)


def test_clock_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_CLOCK__SPEED", "30")
    monkeypatch.setenv("DIALCONF_CLOCK__EPOCH", "2025-03-01T13:00:00+01:00")
    s = Settings()
    assert s.clock.speed == 30 and s.clock.epoch == EPOCH
    clock = clock_from(s.clock)
    assert isinstance(clock, EpochScaledClock)
    assert clock.epoch == EPOCH and clock.factor == 30


def test_a_naive_epoch_or_a_speed_of_zero_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_CLOCK__EPOCH", "2025-03-01T12:00:00")
    with pytest.raises(ValidationError, match="timezone"):
        Settings()
    monkeypatch.delenv("DIALCONF_CLOCK__EPOCH")
    monkeypatch.setenv("DIALCONF_CLOCK__SPEED", "0")
    with pytest.raises(ValidationError, match="greater than 0"):
        Settings()


def test_speed_one_is_the_system_clock_whatever_the_epoch() -> None:
    assert isinstance(clock_from(ClockSettings(speed=1, epoch=EPOCH)), SystemClock)


def test_a_speed_without_epoch_counts_from_now() -> None:
    before = datetime.now(UTC)
    clock = clock_from(ClockSettings(speed=60))
    assert isinstance(clock, EpochScaledClock) and clock.factor == 60
    assert before <= clock.epoch <= datetime.now(UTC)


def test_build_services_takes_its_clock_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'b.db'}", clock=ClockSettings(speed=30, epoch=EPOCH)
    )
    services = build_services(settings)
    try:
        assert isinstance(services.clock, EpochScaledClock)
        assert services.clock.epoch == EPOCH and services.clock.factor == 30
    finally:
        services.close()
    given = SystemClock()
    services = build_services(settings, clock=given)  # a test's own clock wins
    try:
        assert services.clock is given
    finally:
        services.close()
