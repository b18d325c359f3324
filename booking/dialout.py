"""Dial-out use cases over the store (blocking: the controller calls them in a worker thread).

At a dial-out reservation's start every phone number it lists is called (R40); a moderator
may call someone again or call a new number during the conference (R50). Dial-out
participants need no PIN (R49): answering and pressing 1 is enough.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, exists, select

from booking.clock import Clock
from booking.domain.dialout import CallState, DialCall, Outcome, dialable
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.model import Reservation, ReservationStatus
from booking.messaging.model import Channel
from booking.store.dialout import DialOutRepository, dialout_calls
from booking.store.messaging import MessagingRepository
from booking.store.tables import reservations
from booking.store.unit_of_work import UnitOfWork
from booking.store.usage import UsageRepository


class DialOutService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, allowed: str, max_attempts: int, retry: timedelta
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._allowed = allowed
        self._max_attempts = max_attempts
        self._retry = retry

    def start_due(self) -> list[DialCall]:
        """Plan the calls of every dial-out reservation whose start has come (once each)."""
        now = self._clock.now()
        planned: list[DialCall] = []
        scheduled = exists().where(
            and_(
                dialout_calls.c.reservation_id == reservations.c.id,
                dialout_calls.c.requested_by == "schedule",
            )
        )
        q = select(reservations.c.id).where(
            reservations.c.dial_out,
            reservations.c.status == ReservationStatus.ACTIVE.value,
            reservations.c.starts_at <= now,
            reservations.c.ends_at > now,
            ~scheduled,
        )
        with self._uow() as repo:
            calls = DialOutRepository(repo.conn)
            for rid in repo.conn.execute(q).scalars():
                r = repo.get_reservation(int(rid))
                assert r is not None
                planned += [calls.add(c, now) for c in self._invitee_calls(repo.conn, r, now)]
        return planned

    def _invitee_calls(self, conn: Connection, r: Reservation, now: datetime) -> list[DialCall]:
        assert r.id is not None
        found = []
        for i in MessagingRepository(conn).invitees(r.id):
            if i.channel is not Channel.SMS:
                continue
            try:
                number = dialable(i.address, self._allowed)
            except RuleViolation:
                continue  # listed for SMS notices, but not a number this installation may call
            found.append(DialCall(r.id, number, i.language, now))
        return found

    def request(self, reservation_id: int, number: str, by: str, language: str = "") -> DialCall:
        """A moderator calls someone (again): validated, due at once."""
        cleaned = dialable(number, self._allowed)
        now = self._clock.now()
        with self._uow() as repo:
            r = repo.get_reservation(reservation_id)
            if r is None or r.status is not ReservationStatus.ACTIVE:
                raise NotFound(f"no active reservation {reservation_id}")
            lang = language or self._language(repo.conn, r, cleaned)
            return DialOutRepository(repo.conn).add(
                DialCall(reservation_id, cleaned, lang, now, requested_by=by), now
            )

    def recall_missing(self, reservation_id: int, present: set[str], by: str) -> list[DialCall]:
        """R50: call again everyone dialled for this reservation who is not in it now."""
        with self._uow(read_only=True) as repo:
            earlier = DialOutRepository(repo.conn).for_reservation(reservation_id)
        busy = {
            c.number for c in earlier if c.state in (CallState.PENDING, CallState.CALLING, CallState.ANSWERED)
        }
        numbers = {c.number: c.language for c in earlier if c.number not in present and c.number not in busy}
        return [self.request(reservation_id, n, by, lang) for n, lang in sorted(numbers.items())]

    def present(self, reservation_id: int) -> set[str]:
        """Numbers in the conference now, from the open usage legs (outside the controller)."""
        with self._uow(read_only=True) as repo:
            legs = UsageRepository(repo.conn).for_reservation(reservation_id)
        return {leg.caller_number for leg in legs if leg.left_at is None}

    @staticmethod
    def _language(conn: Connection, r: Reservation, number: str) -> str:
        assert r.id is not None
        for i in MessagingRepository(conn).invitees(r.id):
            if i.address == number:
                return i.language
        return "en"

    # --- the calls' life ------------------------------------------------------------------

    def due(self) -> list[DialCall]:
        with self._uow(read_only=True) as repo:
            return DialOutRepository(repo.conn).due(self._clock.now())

    def get(self, call_id: int) -> DialCall | None:
        with self._uow(read_only=True) as repo:
            return DialOutRepository(repo.conn).get(call_id)

    def reservation_of(self, call_id: int) -> tuple[DialCall, Reservation] | None:
        with self._uow(read_only=True) as repo:
            call = DialOutRepository(repo.conn).get(call_id)
            r = None if call is None else repo.get_reservation(call.reservation_id)
        return None if call is None or r is None else (call, r)

    def calls(self, reservation_id: int) -> list[DialCall]:
        with self._uow(read_only=True) as repo:
            return DialOutRepository(repo.conn).for_reservation(reservation_id)

    def _update(self, call_id: int, change: dict[str, object]) -> DialCall:
        with self._uow() as repo:
            calls = DialOutRepository(repo.conn)
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
        with self._uow() as repo:
            calls = DialOutRepository(repo.conn)
            call = calls.get(call_id)
            if call is None:
                raise NotFound(f"no dial-out call {call_id}")
            if call.state in (CallState.JOINED, CallState.FAILED, CallState.CANCELLED):
                return call  # a late report of a call already settled
            updated = call.after_attempt(outcome, now, self._max_attempts, self._retry)
            calls.put(updated)
            return updated

    def recover(self) -> list[DialCall]:
        """After a controller restart: a call it had originated but never heard of again is
        tried again; one that was answered is not (it may be in the conference by now, and
        calling someone twice is worse than a moderator's re-call)."""
        with self._uow() as repo:
            calls = DialOutRepository(repo.conn)
            stale = calls.in_flight()
            for call in stale:
                if call.state is CallState.CALLING:
                    calls.put(dataclasses.replace(call, state=CallState.PENDING, next_at=self._clock.now()))
                else:
                    calls.put(
                        dataclasses.replace(call, state=CallState.FAILED, last_outcome=Outcome.FAILED.value)
                    )
            return stale
