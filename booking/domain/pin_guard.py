"""PIN guessing is limited across calls, per conference and per caller number.

Each key ("conference:<number>", "caller:<number>") counts wrong PINs within a window.
Every wrong PIN costs a growing delay before the next prompt; past the key's limit the
key is locked out until ``locked_until`` or until an operator clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PinGuardPolicy:
    per_caller: int = 5  # wrong PINs from one caller number within the window
    per_conference: int = 15  # wrong PINs for one conference, whoever calls
    window: timedelta = timedelta(hours=1)
    lockout: timedelta = timedelta(hours=1)
    base_delay_s: float = 1.0
    max_delay_s: float = 16.0

    def limit(self, key: str) -> int:
        return self.per_conference if key.startswith("conference:") else self.per_caller


@dataclass(frozen=True)
class Attempts:
    key: str
    failures: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def conference_key(number: str) -> str:
    return f"conference:{number}"


def caller_key(number: str) -> str | None:
    """None for anonymous callers: they are limited per conference and per call only."""
    digits = number.strip()
    return f"caller:{digits}" if digits else None


def record_failure(a: Attempts, now: datetime, policy: PinGuardPolicy) -> Attempts:
    if a.window_start is None or now - a.window_start >= policy.window:
        a = Attempts(a.key, 0, now, None if not a.locked(now) else a.locked_until)
    a = replace(a, failures=a.failures + 1)
    if a.failures >= policy.limit(a.key):
        a = replace(a, locked_until=now + policy.lockout)
    return a


def delay_after(failures: int, policy: PinGuardPolicy) -> float:
    """Seconds to wait before the next prompt: 1, 2, 4, ... capped."""
    if failures <= 0:
        return 0.0
    return float(min(policy.max_delay_s, policy.base_delay_s * 2 ** (failures - 1)))
