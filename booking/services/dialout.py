"""Dial-out use cases over the store (blocking: the controller calls them in a worker thread).

At a dial-out reservation's start every phone number it lists is called (R40); a moderator
may call someone again or call a new number during the conference (R50). Dial-out
participants need no PIN (R49): answering and pressing 1 is enough.

Every rule about who may be called, when and how often is decided here, once, for the API,
the keypad and the live page alike (``place``): only a dial-out reservation calls out, only
while its conference runs (or at its start, ``start_due``); only numbers the policy admits
(booking.domain.dialout_policy); within the caps, counted in the same transaction that adds
the calls, so two requests at once cannot both pass a cap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.dialout import CallState, DialCall, DialCallDraft, Outcome, Requester
from booking.domain.dialout_policy import CallCaps, NumberPolicy, largest_that_fits
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.messages import Channel
from booking.domain.model import Reservation, ReservationStatus
from booking.services.ports import Transaction, UnitOfWork

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")
_UNDER_WAY = (CallState.PENDING, CallState.CALLING, CallState.ANSWERED)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DialOutRules:
    policy: NumberPolicy
    caps: CallCaps
    max_attempts: int = 3  # per call: no answer and busy are tried again
    retry: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class Presence:
    """Who is in the conference now, as the one asking knows it (the controller's live
    state); without it the open usage legs in the store tell."""

    running: bool
    numbers: frozenset[str] = frozenset()


class DialOutService:
    def __init__(self, uow: UnitOfWork, clock: Clock, rules: DialOutRules) -> None:
        self._uow = uow
        self._clock = clock
        self._rules = rules
        # Reservations whose plan was capped or skipped an invitee: said once, not every tick
        # (a start that plans nothing is looked at again, in case invitees are added).
        self._told: set[int] = set()

    @property
    def policy(self) -> NumberPolicy:
        return self._rules.policy

    def start_due(self) -> list[DialCall]:
        """Plan the calls of every dial-out reservation whose start has come (once each),
        as many as the caps leave room for."""
        now = self._clock.now()
        planned: list[DialCall] = []
        with self._uow() as tx:
            calls = tx.dialout
            for rid in calls.starts_due(now):
                r = tx.reservations.get_reservation(rid)
                assert r is not None
                wanted = self._invitee_calls(tx, r, now, tell=r.id not in self._told)
                profile = r.room.profile_id
                calls.lock_profile(profile)
                room = largest_that_fits(
                    self._rules.caps,
                    calls.reservation_calls_since(r.id, now - _DAY),
                    calls.profile_calls_since(profile, now - _DAY),
                    now,
                )
                if len(wanted) > room and r.id not in self._told:
                    security.warning(
                        "dialout.plan_capped", reservation=r.id, listed=len(wanted), planned=room
                    )
                self._told.add(r.id)
                planned += [calls.add(c, now, profile) for c in wanted[:room]]
        return planned

    def _invitee_calls(
        self, tx: Transaction, r: Reservation, now: datetime, tell: bool = True
    ) -> list[DialCallDraft]:
        found: dict[str, DialCallDraft] = {}
        for i in tx.messages.invitees(r.id):
            if i.channel is not Channel.SMS:
                continue
            try:
                number = self.policy.check(i.address)
            except RuleViolation as e:  # listed for SMS notices, but not a number this installation calls
                if tell:
                    security.info("dialout.invitee_skipped", reservation=r.id, code=e.code)
                continue
            found.setdefault(number, DialCallDraft(r.id, number, i.language, now))
        return list(found.values())

    def place(
        self, reservation_id: int, number: str, by: Requester, presence: Presence | None = None
    ) -> list[DialCall]:
        """A moderator's or the web's call (R50): ``number``, or "" to call again everyone
        dialled for this reservation who is not in the conference now. The calls queued
        (a number already being called is not called twice); NotFound, RuleViolation
        (not_dial_out, not_running, not_dialable, premium, abroad, not_allowed) or TooMany
        (limit, rate) otherwise."""
        try:
            return self._place(reservation_id, number, by, presence)
        except RuleViolation as e:
            security.warning("dialout.refused", reservation=reservation_id, by=by, code=e.code)
            raise

    def may_call(self, reservation_id: int, presence: Presence | None = None) -> None:
        """Whether this reservation may call out now at all (before a number is asked for):
        NotFound or RuleViolation (not_dial_out, not_running) otherwise."""
        try:
            with self._uow(read_only=True) as tx:
                self._open(tx, reservation_id, presence, self._clock.now())
        except RuleViolation as e:
            security.warning("dialout.refused", reservation=reservation_id, code=e.code)
            raise

    def _open(
        self, tx: Transaction, reservation_id: int, presence: Presence | None, now: datetime
    ) -> tuple[Reservation, Presence]:
        r = tx.reservations.get_reservation(reservation_id)
        if r is None or r.status is not ReservationStatus.ACTIVE:
            raise NotFound(f"no active reservation {reservation_id}")
        if not r.dial_out:
            raise RuleViolation(
                "reservation_id", "calling out is not enabled for this conference", "not_dial_out"
            )
        present = presence or self._present(tx, r.id)
        if not present.running or (r.ends_at is not None and now >= r.ends_at):
            raise RuleViolation(
                "reservation_id", "the conference is not running: nobody is in it", "not_running"
            )
        return r, present

    def _place(
        self, reservation_id: int, number: str, by: Requester, presence: Presence | None
    ) -> list[DialCall]:
        now = self._clock.now()
        with self._uow() as tx:
            r, present = self._open(tx, reservation_id, presence, now)
            calls = tx.dialout
            if number:
                e164 = self.policy.check(number)
                ongoing = calls.ringing_or_due(r.id, e164)
                if ongoing is not None:
                    return [ongoing]  # already being called: once is enough
                wanted = [(e164, self._language(tx, r, e164))]
            else:
                wanted = self._missing(calls.for_reservation(r.id), present.numbers)
            if not wanted:
                return []
            profile = r.room.profile_id
            calls.lock_profile(profile)
            refusal = self._rules.caps.refusal(
                calls.reservation_calls_since(r.id, now - _DAY),
                calls.profile_calls_since(profile, now - _DAY),
                len(wanted),
                now,
            )
            if refusal is not None:
                raise refusal
            drafts = [DialCallDraft(r.id, n, lang, now, requested_by=by) for n, lang in wanted]
            return [calls.add(d, now, profile) for d in drafts]

    def _missing(self, earlier: list[DialCall], present: frozenset[str]) -> list[tuple[str, str]]:
        """R50: everyone dialled before who is neither in the conference nor being called,
        and whom the policy still admits."""
        here = {self.policy.same_number(n) for n in present}
        busy = {c.number for c in earlier if c.state in _UNDER_WAY}
        numbers: dict[str, str] = {}
        for c in earlier:
            if c.number in here or c.number in busy:
                continue
            try:
                numbers[self.policy.check(c.number)] = c.language
            except RuleViolation:
                continue  # the operator narrowed the policy since
        return sorted(numbers.items())

    def present(self, reservation_id: int) -> Presence:
        """Who is in the conference now, from the open usage legs (outside the controller)."""
        with self._uow(read_only=True) as tx:
            return self._present(tx, reservation_id)

    @staticmethod
    def _present(tx: Transaction, reservation_id: int) -> Presence:
        legs = [leg for leg in tx.usage.for_reservation(reservation_id) if leg.left_at is None]
        return Presence(bool(legs), frozenset(leg.caller_number for leg in legs))

    def _language(self, tx: Transaction, r: Reservation, number: str) -> str:
        for i in tx.messages.invitees(r.id):
            if i.channel is Channel.SMS and self.policy.same_number(i.address) == number:
                return i.language
        return "en"

    # --- the calls' life ------------------------------------------------------------------

    def due(self) -> list[DialCall]:
        with self._uow(read_only=True) as tx:
            return tx.dialout.due(self._clock.now())

    def get(self, call_id: int) -> DialCall | None:
        with self._uow(read_only=True) as tx:
            return tx.dialout.get(call_id)

    def reservation_of(self, call_id: int) -> tuple[DialCall, Reservation] | None:
        with self._uow(read_only=True) as tx:
            call = tx.dialout.get(call_id)
            r = None if call is None else tx.reservations.get_reservation(call.reservation_id)
        return None if call is None or r is None else (call, r)

    def calls(self, reservation_id: int) -> list[DialCall]:
        with self._uow(read_only=True) as tx:
            return tx.dialout.for_reservation(reservation_id)

    def _update(self, call_id: int, change: dict[str, object]) -> DialCall:
        with self._uow() as tx:
            calls = tx.dialout
            call = calls.get(call_id)
            if call is None:
                raise NotFound(f"no dial-out call {call_id}")
            updated = dataclasses.replace(call, **change)  # type: ignore[arg-type]
            calls.put(updated)
            return updated

    def calling(self, call_id: int) -> DialCall:
        return self._update(call_id, {"state": CallState.CALLING})

    def answered(self, call_id: int, uniqueid: str) -> DialCall:
        return self._update(call_id, {"state": CallState.ANSWERED, "uniqueid": uniqueid})

    def joined(self, call_id: int) -> DialCall:
        return self._update(call_id, {"state": CallState.JOINED})

    def failed(self, call_id: int, outcome: Outcome) -> DialCall:
        """An attempt that did not end in the conference: retried per settings, or given up."""
        now = self._clock.now()
        with self._uow() as tx:
            calls = tx.dialout
            call = calls.get(call_id)
            if call is None:
                raise NotFound(f"no dial-out call {call_id}")
            if call.state in (CallState.JOINED, CallState.FAILED, CallState.CANCELLED):
                return call  # a late report of a call already settled
            updated = call.after_attempt(outcome, now, self._rules.max_attempts, self._rules.retry)
            calls.put(updated)
            return updated

    def recover(self) -> list[DialCall]:
        """After a controller restart: a call it had originated but never heard of again is
        tried again; one that was answered is not (it may be in the conference by now, and
        calling someone twice is worse than a moderator's re-call)."""
        with self._uow() as tx:
            calls = tx.dialout
            stale = calls.in_flight()
            for call in stale:
                if call.state is CallState.CALLING:
                    calls.put(dataclasses.replace(call, state=CallState.PENDING, next_at=self._clock.now()))
                else:
                    calls.put(dataclasses.replace(call, state=CallState.FAILED, last_outcome=Outcome.FAILED))
            return stale
