"""Dial-in decisions: which reservation a caller means, and whether the PIN lets them in.

Wrong PINs count against the conference and the caller number across calls; a locked key
answers LOCKED_OUT without looking at the PIN at all.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.clock import Clock
from booking.domain.model import Admission, Reservation, Verdict, admit
from booking.domain.pin_guard import (
    Attempts,
    PinGuardPolicy,
    caller_key,
    conference_key,
    delay_after,
    record_failure,
)
from booking.settings import BookingSettings
from booking.store.pin_attempts import PinAttemptsRepository
from booking.store.repository import Repository
from booking.store.unit_of_work import UnitOfWork


class DialInStatus(enum.Enum):
    UNKNOWN_CONFERENCE = "unknown_conference"
    DECIDED = "decided"


@dataclass(frozen=True)
class DialInOutcome:
    status: DialInStatus
    reservation: Reservation | None = None
    admission: Admission | None = None

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


@dataclass(frozen=True)
class _Decision:
    outcome: DialInOutcome
    states: list[Attempts] = dataclasses.field(default_factory=list)
    needs_write: bool = False  # never without a reservation


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
            per_conference=s.pin_per_conference,
            window=timedelta(minutes=s.pin_window_minutes),
            lockout=timedelta(minutes=s.pin_lockout_minutes),
            base_delay_s=s.pin_base_delay_s,
            max_delay_s=s.pin_max_delay_s,
        )

    def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        """Decide for a caller who keyed a conference number and a PIN.

        Wrong PINs count against the conference and the caller number across calls; a
        locked key answers LOCKED_OUT without looking at the PIN at all.
        """
        now = self._clock.now()
        # Most callers key the right PIN and have no wrong ones to forget: decide that in a
        # read-only transaction, which on SQLite neither queues behind nor blocks the writers.
        with self._uow(read_only=True) as repo:
            found = self._decide(repo, conference_number, pin, caller, now)
        if not found.needs_write:
            return found.outcome
        # A wrong PIN to count, or a caller's earlier failures to clear: decide again inside
        # a write transaction, since another call may have changed the counters meanwhile.
        with self._uow() as repo:
            found = self._decide(repo, conference_number, pin, caller, now)
            if found.needs_write:
                found = self._record(repo, found, now)
        return found.outcome

    def _decide(
        self, repo: Repository, conference_number: str, pin: str, caller: str, now: datetime
    ) -> _Decision:
        reservation = pick_reservation(repo.reservations_for_number(conference_number), now, self.join_lead)
        if reservation is None:
            return _Decision(DialInOutcome(DialInStatus.UNKNOWN_CONFERENCE))
        guard = PinAttemptsRepository(repo.conn)
        keys = [k for k in (conference_key(conference_number), caller_key(caller)) if k]
        states = guard.get_many(keys)
        if any(s.locked(now) for s in states):
            return _Decision(DialInOutcome(DialInStatus.DECIDED, reservation, Admission(Verdict.LOCKED_OUT)))
        admission = admit(reservation, pin, now, self.join_lead)
        outcome = DialInOutcome(DialInStatus.DECIDED, reservation, admission)
        if admission.verdict is Verdict.WRONG_PIN:
            return _Decision(outcome, states, needs_write=True)
        caller_state = next((s for s in states if s.key.startswith("caller:")), None)
        return _Decision(outcome, states, needs_write=caller_state is not None and caller_state.failures > 0)

    def _record(self, repo: Repository, found: _Decision, now: datetime) -> _Decision:
        guard = PinAttemptsRepository(repo.conn)
        admission = found.outcome.admission
        assert admission is not None
        if admission.verdict is Verdict.WRONG_PIN:
            policy = self.pin_policy
            states = [record_failure(s, now, policy) for s in found.states]
            for s in states:
                guard.put(s)
            admission = dataclasses.replace(
                admission, delay_s=delay_after(max(s.failures for s in states), policy)
            )
            return _Decision(dataclasses.replace(found.outcome, admission=admission))
        for s in found.states:
            if s.key.startswith("caller:"):
                guard.clear(s.key)
        return _Decision(found.outcome)

    def pin_lockouts(self) -> list[Attempts]:
        with self._uow(read_only=True) as repo:
            return PinAttemptsRepository(repo.conn).locked(self._clock.now())

    def clear_pin_lockout(self, key: str) -> bool:
        """Operator action: forget the wrong PINs of a key ("conference:N" or "caller:N")."""
        with self._uow() as repo:
            return PinAttemptsRepository(repo.conn).clear(key)

    def conference_exists(self, conference_number: str) -> bool:
        with self._uow(read_only=True) as repo:
            return bool(repo.reservations_for_number(conference_number))

    def remaining_seconds(self, conference_number: str) -> float | None:
        """Seconds until the reservation the caller is in ends; None without an end (anytime)."""
        now = self._clock.now()
        with self._uow(read_only=True) as repo:
            found = repo.reservations_for_number(conference_number)
        reservation = pick_reservation(found, now, self.join_lead)
        if reservation is None or reservation.ends_at is None:
            return None
        return (reservation.ends_at - now).total_seconds()

    def current_reservation(self, conference_number: str) -> Reservation | None:
        """The reservation a conference with this number runs under now."""
        with self._uow(read_only=True) as repo:
            found = repo.reservations_for_number(conference_number)
        return pick_reservation(found, self._clock.now(), self.join_lead)
