"""Dial-in decisions: which reservation a caller means, and whether the code lets them in.

A caller keys a conference number and a code; only then is anything decided, and an unknown
number or a wrong code get the same answer (BAD_CREDENTIALS), so conference numbers cannot be
enumerated. Guessing is limited across calls (booking.domain.pin_guard): per caller number
(a lockout), and per conference (a budget; past it only callers with a history are heard).
The web's moderator sign-in has its own counters, so web guessing never shuts phone callers out.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.domain.clock import Clock
from booking.domain.model import Admission, Reservation, Role, Verdict, admit
from booking.domain.pin_guard import (
    EVERY_ROLE,
    Attempts,
    History,
    PinGuardPolicy,
    Refusal,
    caller_key,
    conference_key,
    delay_after,
    gate,
    record_caller_failure,
    record_conference_failure,
    web_client_key,
    web_conference_key,
)
from booking.services.ports import PinAttempts, Transaction, UnitOfWork
from booking.settings import BookingSettings


class DialInStatus(enum.Enum):
    DECIDED = "decided"  # a right code: the admission says what follows (in, too early, over)
    BAD_CREDENTIALS = "bad_credentials"  # no such conference number, or not its code
    CALLER_LOCKED = "caller_locked"  # this caller number (web: client address) guessed too often
    THROTTLED = "throttled"  # the conference is over its guessing budget; this caller is unknown


@dataclass(frozen=True)
class DialInOutcome:
    status: DialInStatus
    reservation: Reservation | None = None  # only with DECIDED: nothing leaks otherwise
    admission: Admission | None = None
    delay_s: float = 0.0  # BAD_CREDENTIALS: wait this long before the next prompt or answer
    throttle_started: bool = False  # this guess used up the conference's budget: alert

    @property
    def admitted(self) -> bool:
        return self.admission is not None and self.admission.verdict is Verdict.ADMITTED


def pick_reservation(found: list[Reservation], now: datetime, lead: timedelta) -> Reservation | None:
    """The reservation a caller means now: the open one, else the next one, else the last one."""
    if not found:
        return None
    upcoming = None
    for r in found:
        opens = r.opens_at(lead)
        if (opens is None or opens <= now) and (r.ends_at is None or now < r.ends_at):
            return r
        if opens is not None and opens > now and upcoming is None:
            upcoming = r
    return upcoming or found[-1]


# What a caller did in a reservation before, read only while its conference is throttled.
HistoryOf = Callable[[Transaction, Reservation], History]


@dataclass(frozen=True)
class _Entrance:
    """One way in: its keys, its limits and the codes it takes."""

    guesser: str | None  # the guesser's key (None: an anonymous caller)
    conference: str
    policy: PinGuardPolicy
    roles: frozenset[Role]
    history: HistoryOf


def _no_history(_repo: Transaction, _r: Reservation) -> History:
    return History.NONE


class DialInService:
    def __init__(self, uow: UnitOfWork, clock: Clock, settings: BookingSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings

    @property
    def join_lead(self) -> timedelta:
        return self._s.join_lead

    @property
    def pin_policy(self) -> PinGuardPolicy:
        s = self._s
        return PinGuardPolicy(
            per_caller=s.pin_per_caller,
            caller_window=timedelta(minutes=s.pin_window_minutes),
            lockout=timedelta(minutes=s.pin_lockout_minutes),
            per_conference=s.pin_per_conference,
            conference_window=timedelta(minutes=s.pin_conference_window_minutes),
            known_caller_tries=s.pin_known_caller_tries,
            pin_length=s.pin_length,
            base_delay_s=s.pin_base_delay_s,
            max_delay_s=s.pin_max_delay_s,
        )

    @property
    def web_pin_policy(self) -> PinGuardPolicy:
        return dataclasses.replace(
            self.pin_policy,
            per_caller=self._s.pin_web_per_client,
            per_conference=self._s.pin_web_per_conference,
        )

    def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        """Decide for a phone caller who keyed a conference number and a code."""
        number = caller.strip()

        def history(tx: Transaction, r: Reservation) -> History:
            roles = tx.usage.roles_of(r.id, number)
            if Role.MODERATOR in roles:
                return History.MODERATOR
            return History.PARTICIPANT if roles else History.NONE

        entrance = _Entrance(
            caller_key(caller), conference_key(conference_number), self.pin_policy, EVERY_ROLE, history
        )
        return self._enter(entrance, conference_number, pin)

    def web_sign_in(
        self, conference_number: str, admin_pin: str, client: str, known_device: bool = False
    ) -> DialInOutcome:
        """Decide for the web's moderator sign-in: only the ADMIN PIN lets in (the PIN is as
        wrong as any other code). ``known_device``: the browser signed in as this conference's
        moderator before (a signed cookie), so it is heard while the conference is throttled."""
        known = History.MODERATOR if known_device else History.NONE
        entrance = _Entrance(
            web_client_key(client),
            web_conference_key(conference_number),
            self.web_pin_policy,
            frozenset({Role.MODERATOR}),
            lambda _repo, _r: known,
        )
        return self._enter(entrance, conference_number, admin_pin)

    def _enter(self, entrance: _Entrance, conference_number: str, code: str) -> DialInOutcome:
        now = self._clock.now()
        # Most callers key the right code: decide that in a read-only transaction, which on
        # SQLite neither queues behind nor blocks the writers. Admitting there is sound: it is
        # what a serial order would decide at the moment of that read.
        with self._uow(read_only=True) as tx:
            outcome = self._decide(tx, entrance, conference_number, code, now, write=False)
        if outcome is not None:
            return outcome
        # A wrong guess is answered only from the count every earlier guess left (under the
        # counters' lock), so parallel calls cannot get more guesses heard than the budget.
        with self._uow() as tx:
            tx.pins.serialise()
            outcome = self._decide(tx, entrance, conference_number, code, now, write=True)
        assert outcome is not None
        return outcome

    def _decide(
        self, tx: Transaction, entrance: _Entrance, number: str, code: str, now: datetime, write: bool
    ) -> DialInOutcome | None:
        """The outcome; None (read-only) when a wrong guess must be counted first."""
        policy = entrance.policy
        reservation = pick_reservation(tx.reservations.reservations_for_number(number), now, self.join_lead)
        guard = tx.pins
        keys = [entrance.conference] + ([entrance.guesser] if entrance.guesser else [])
        states = guard.get_many(keys)
        conference, caller = states[0], (states[1] if entrance.guesser else None)
        history = History.NONE
        if conference.locked(now) and reservation is not None and caller is not None:
            history = entrance.history(tx, reservation)
        verdict = gate(caller, conference, history, now, policy, entrance.roles)
        if verdict.refusal is Refusal.CALLER_LOCKED:
            return DialInOutcome(DialInStatus.CALLER_LOCKED)
        if verdict.refusal is Refusal.THROTTLED:
            return DialInOutcome(DialInStatus.THROTTLED)
        if reservation is not None:
            admission = admit(reservation, code, now, self.join_lead)
            if admission.role in verdict.roles:
                return DialInOutcome(DialInStatus.DECIDED, reservation, admission)
        if not write:
            return None
        return self._count_wrong(guard, conference, caller, reservation, now, policy)

    def _count_wrong(
        self,
        guard: PinAttempts,
        conference: Attempts,
        caller: Attempts | None,
        reservation: Reservation | None,
        now: datetime,
        policy: PinGuardPolicy,
    ) -> DialInOutcome:
        budget = policy.budget(len(reservation.room.pin) if reservation is not None else None)
        was_throttled = conference.locked(now)
        conference = record_conference_failure(conference, now, budget, policy)
        guard.put(conference)
        failures = conference.failures
        if caller is not None:
            caller = record_caller_failure(caller, now, policy)
            guard.put(caller)
            failures = caller.failures
        # Counters of numbers nobody keys any more (most were never conferences) are dropped.
        guard.prune(now - 2 * max(policy.caller_window, policy.conference_window), now)
        delay = policy.max_delay_s if was_throttled else delay_after(failures, policy)
        return DialInOutcome(
            DialInStatus.BAD_CREDENTIALS,
            delay_s=delay,
            throttle_started=not was_throttled and conference.locked(now),
        )

    def pin_lockouts(self) -> list[Attempts]:
        """Keys held now: caller numbers and web clients locked out, conferences throttled."""
        with self._uow(read_only=True) as tx:
            return tx.pins.locked(self._clock.now())

    def clear_pin_lockout(self, key: str) -> bool:
        """Operator action: forget the wrong guesses of a key (caller:N, conference:N, web:A,
        web-conference:N)."""
        with self._uow() as tx:
            return tx.pins.clear(key)

    def remaining_seconds(self, conference_number: str) -> float | None:
        """Seconds until the reservation the caller is in ends; None without an end (anytime)."""
        now = self._clock.now()
        with self._uow(read_only=True) as tx:
            found = tx.reservations.reservations_for_number(conference_number)
        reservation = pick_reservation(found, now, self.join_lead)
        if reservation is None or reservation.ends_at is None:
            return None
        return (reservation.ends_at - now).total_seconds()

    def current_reservation(self, conference_number: str) -> Reservation | None:
        """The reservation a conference with this number runs under now."""
        with self._uow(read_only=True) as tx:
            found = tx.reservations.reservations_for_number(conference_number)
        return pick_reservation(found, self._clock.now(), self.join_lead)
