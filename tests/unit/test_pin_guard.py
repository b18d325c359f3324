"""PIN guessing limits across calls: growing delays, lockout per caller and per conference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.domain.pin_guard import (
    Attempts,
    PinGuardPolicy,
    caller_key,
    conference_key,
    delay_after,
    record_failure,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
P = PinGuardPolicy(
    per_caller=3, per_conference=5, window=timedelta(minutes=10), lockout=timedelta(minutes=30)
)


def fail(key: str, times: int, start: datetime = NOW) -> Attempts:
    a = Attempts(key)
    for i in range(times):
        a = record_failure(a, start + timedelta(seconds=i), P)
    return a


def test_caller_locked_after_its_limit() -> None:
    assert not fail("caller:+420601", 2).locked(NOW + timedelta(seconds=5))
    locked = fail("caller:+420601", 3)
    assert locked.locked(NOW + timedelta(seconds=5))
    assert locked.locked_until == NOW + timedelta(seconds=2) + timedelta(minutes=30)
    assert not locked.locked(NOW + timedelta(minutes=31))


def test_conference_has_its_own_higher_limit() -> None:
    assert not fail(conference_key("123456"), 4).locked(NOW + timedelta(seconds=5))
    assert fail(conference_key("123456"), 5).locked(NOW + timedelta(seconds=5))


def test_failures_outside_the_window_start_over() -> None:
    a = fail("caller:1", 2)
    later = record_failure(a, NOW + timedelta(minutes=11), P)
    assert later.failures == 1
    assert not later.locked(NOW + timedelta(minutes=11))


def test_delays_grow_and_are_capped() -> None:
    assert [delay_after(n, PinGuardPolicy()) for n in range(7)] == [0, 1, 2, 4, 8, 16, 16]


def test_keys() -> None:
    assert caller_key("") is None
    assert caller_key("+420601") == "caller:+420601"
    assert conference_key("42") == "conference:42"
