"""PIN guessing limits across calls: per caller, and a budget per conference.

Two kinds of keys count wrong guesses, each within its own window:

- the guesser: ``caller:<number>`` on the phone, ``web:<client address>`` on the web. Past its
  limit that key is locked out for a while (``locked_until``); it never locks anyone else out.
- the conference: ``conference:<number>`` (phone) and ``web-conference:<number>`` (web), kept
  for whatever number was keyed, existing or not, so the answers never tell them apart. Past
  its budget the conference is *throttled* until its window ends: the codes of guessers
  without a history are no longer compared at all (they hear "try later"), while callers whose
  number joined this reservation before are still heard: participants with the PIN, moderators
  with either code. That bounds the guesses an attacker with many caller numbers and parallel
  calls gets evaluated, without locking out the people who use the conference.

A wrong guess also costs a growing delay before the next prompt (or web answer).
The budget is set for PINs of ``pin_length`` digits; a reservation with shorter (older) PINs
gets proportionally fewer wrong guesses, at least one per window.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from booking.domain.model import Role


@dataclass(frozen=True)
class PinGuardPolicy:
    per_caller: int = 5  # wrong guesses from one caller number (or web client) within its window
    caller_window: timedelta = timedelta(hours=1)
    lockout: timedelta = timedelta(hours=1)  # how long a caller number past its limit is refused
    per_conference: int = 10  # the conference's budget of wrong guesses within its window
    conference_window: timedelta = timedelta(minutes=15)
    # While throttled, a caller with a history keeps being heard for this many wrong guesses
    # of its own within the caller window (a typo is forgiven, a spoofed number is not for long).
    known_caller_tries: int = 2
    pin_length: int = 9  # the PIN length the budget is set for
    base_delay_s: float = 1.0
    max_delay_s: float = 16.0

    def budget(self, pin_length: int | None) -> int:
        """Wrong guesses a conference takes per window; fewer for shorter PINs (each digit
        less makes a guess ten times likelier to hit), never below one."""
        if pin_length is None or pin_length >= self.pin_length:
            return self.per_conference
        return max(1, self.per_conference // int(10 ** (self.pin_length - pin_length)))


@dataclass(frozen=True)
class Attempts:
    key: str
    failures: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None  # a caller: locked out; a conference: throttled

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def failures_within(self, window: timedelta, now: datetime) -> int:
        if self.window_start is None or now - self.window_start >= window:
            return 0
        return self.failures


class History(enum.Enum):
    """What a caller number did in this reservation before (its usage legs)."""

    NONE = "none"
    PARTICIPANT = "participant"  # joined as a participant, never as a moderator
    MODERATOR = "moderator"  # joined as a moderator at least once


class Refusal(enum.Enum):
    CALLER_LOCKED = "caller_locked"  # this caller number or web client guessed too often
    THROTTLED = "throttled"  # the conference is over its budget and this caller has no history


@dataclass(frozen=True)
class Gate:
    """Whether a guess is compared at all, and against which codes."""

    refusal: Refusal | None = None
    roles: frozenset[Role] = frozenset()  # the codes compared: a code of another role is wrong


EVERY_ROLE = frozenset({Role.PARTICIPANT, Role.MODERATOR})
_HEARD_WHILE_THROTTLED = {
    History.MODERATOR: EVERY_ROLE,
    History.PARTICIPANT: frozenset({Role.PARTICIPANT}),
    History.NONE: frozenset(),
}


def gate(
    caller: Attempts | None,
    conference: Attempts,
    history: History,
    now: datetime,
    policy: PinGuardPolicy,
    roles: frozenset[Role] = EVERY_ROLE,
) -> Gate:
    """Decide before looking at the code. ``roles``: the codes this entrance takes at all (the
    web's moderator sign-in takes only the ADMIN PIN). ``history`` matters only while the
    conference is throttled (callers pass ``History.NONE`` otherwise, to save the lookup)."""
    if caller is not None and caller.locked(now):
        return Gate(Refusal.CALLER_LOCKED)
    if not conference.locked(now):
        return Gate(None, roles)
    own = (
        caller.failures_within(policy.caller_window, now) if caller is not None else policy.known_caller_tries
    )
    heard = _HEARD_WHILE_THROTTLED[history] & roles if own < policy.known_caller_tries else frozenset()
    return Gate(None, heard) if heard else Gate(Refusal.THROTTLED)


def record_failure(
    a: Attempts, now: datetime, limit: int, window: timedelta, hold: timedelta | None
) -> Attempts:
    """Count one wrong guess. Reaching ``limit`` within ``window`` holds the key for ``hold``
    from now (a caller's lockout) or, when ``hold`` is None, until the window ends (a conference)."""
    if a.window_start is None or now - a.window_start >= window:
        a = Attempts(a.key, 0, now, a.locked_until if a.locked(now) else None)
    a = replace(a, failures=a.failures + 1)
    if a.failures >= limit and not a.locked(now):
        assert a.window_start is not None
        a = replace(a, locked_until=now + hold if hold is not None else a.window_start + window)
    return a


def record_caller_failure(a: Attempts, now: datetime, policy: PinGuardPolicy) -> Attempts:
    return record_failure(a, now, policy.per_caller, policy.caller_window, policy.lockout)


def record_conference_failure(a: Attempts, now: datetime, budget: int, policy: PinGuardPolicy) -> Attempts:
    """Past ``budget`` the conference is throttled until its window ends."""
    return record_failure(a, now, budget, policy.conference_window, None)


def delay_after(failures: int, policy: PinGuardPolicy) -> float:
    """Seconds to wait before the next prompt: 1, 2, 4, ... capped."""
    if failures <= 0:
        return 0.0
    return float(min(policy.max_delay_s, policy.base_delay_s * 2 ** (failures - 1)))


def caller_key(number: str) -> str | None:
    """None for anonymous callers: they are limited per conference and per call only."""
    digits = number.strip()
    return f"caller:{digits}" if digits else None


def conference_key(number: str) -> str:
    return f"conference:{number}"


def web_client_key(address: str) -> str:
    return f"web:{address.strip() or 'unknown'}"


def web_conference_key(number: str) -> str:
    return f"web-conference:{number}"


# The scopes of keys, as the lockout gauge labels them (the text before the first colon).
SCOPES = ("conference", "caller", "web-conference", "web")
