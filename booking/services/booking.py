"""Booking use cases over a unit of work.

Every write that can take seats runs check-then-insert inside one transaction that holds
the capacity lock, so concurrent bookings never overbook (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory transaction lock). The seats the live members of anytime rooms hold
(booking.services.seats) are in the same ledger: a booking or an extension must fit beside them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from booking.domain import rules
from booking.domain.account_plans import DEFAULT_PLAN, AccountPlan, room_limit
from booking.domain.clock import Clock
from booking.domain.credentials import new_conference_number, new_pins
from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import (
    Change,
    Profile,
    Reservation,
    ReservationDraft,
    ReservationKind,
    ReservationStatus,
    Room,
    RoomDraft,
)
from booking.domain.rules import BookingRequest
from booking.services.ports import Transaction, UnitOfWork
from booking.services.seats import refusal, seats_fit
from booking.settings import BookingSettings


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Called inside the transaction of every write that makes, edits, approves, rejects or deletes a
# reservation (notices are planned in step with it: booking.services.notices).
ChangeHook = Callable[[Transaction, Change, datetime], None]
# Called inside the transaction that makes a reservation: what must be stored with it or not at all.
WithinHook = Callable[[Transaction, Reservation], None]


class BookingService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, settings: BookingSettings, on_change: ChangeHook | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._on_change = on_change

    def _changed(self, tx: Transaction, before: Reservation | None, after: Reservation) -> None:
        if self._on_change is not None:
            self._on_change(tx, Change(before, after), self._clock.now())

    # --- profiles ---------------------------------------------------------------------

    def create_profile(self, name: str, language: str = "en") -> tuple[Profile, str]:
        """A new profile and its API token (shown once; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        with self._uow() as tx:
            if tx.reservations.find_profile(name) is not None:
                raise RuleViolation("name", "a profile with this name exists", "profile_exists")
            return tx.reservations.add_profile(name, language, hash_token(token), self._clock.now()), token

    def profile_for_token(self, token: str) -> Profile | None:
        with self._uow(read_only=True) as tx:
            return tx.reservations.profile_by_token(hash_token(token))

    def set_account_plan(self, profile_id: int, plan: AccountPlan) -> Profile:
        """The operator puts a profile on another account plan; its rooms stay as they are
        (a profile moved back to the panel plan above its limit books again once under it)."""
        with self._uow() as tx:
            if tx.reservations.get_profile(profile_id) is None:
                raise NotFound(f"no profile {profile_id}")
            tx.reservations.set_account_plan(profile_id, plan)
            profile = tx.reservations.get_profile(profile_id)
            assert profile is not None
            return profile

    def profiles_on_plan(self, plan: AccountPlan, limit: int = 200) -> list[Profile]:
        with self._uow(read_only=True) as tx:
            return tx.reservations.profiles_on_plan(plan, limit)

    def room_limit(self, profile_id: int) -> int | None:
        """How many active rooms the profile may hold (None: any number)."""
        profile = self.profile(profile_id)
        plan = profile.account_plan if profile is not None else DEFAULT_PLAN
        return room_limit(plan, self._s.max_active_per_profile)

    def profile_named(self, name: str) -> Profile:
        with self._uow() as tx:
            profile = tx.reservations.get_profile(tx.reservations.profile_id(name, self._clock.now()))
            assert profile is not None
            return profile

    # --- booking ----------------------------------------------------------------------

    def request(
        self, profile_id: int, req: BookingRequest, operator: bool = False, within: WithinHook | None = None
    ) -> Reservation:
        """Book, or queue for an operator when over the limits (status PENDING).

        ``operator`` bookings skip the lead-time rule and the per-profile room limit. ``within``
        stores what belongs to the reservation (invitees, the order message) in its transaction.
        Raises RuleViolation (hard rules) or CapacityExceeded (structured refusal).
        """
        now = self._clock.now()
        assessment = rules.assess(req, now, self._s, check_lead=not operator)
        if assessment.violations:
            raise assessment.violations[0]
        status = ReservationStatus.PENDING if assessment.needs_operator else ReservationStatus.ACTIVE
        with self._uow() as tx:
            tx.reservations.lock_capacity()
            if not operator:
                self._check_room_limit(tx, profile_id, now)
            if status is ReservationStatus.ACTIVE:
                # Suggested alternatives must themselves be bookable (R23's lead time).
                lead = timedelta(minutes=self._s.panel_min_lead_minutes)
                earliest = now + lead if req.kind is ReservationKind.PANEL and not operator else now
                self._check_capacity(tx, req.starts_at, req.ends_at, req.seats, earliest=earliest)
            tx.reservations.release_expired_rooms(now - self._s.ended_visible, now)
            room = self._new_room(tx, profile_id, now)
            draft = ReservationDraft(
                room,
                req.kind,
                req.starts_at,
                req.ends_at,
                req.seats,
                status=status,
                max_participants=req.max_participants,
                title=req.title,
                note="; ".join(assessment.over_limit),
                dial_out=req.dial_out,
                record=req.record,
                wait_for_moderator=req.wait_for_moderator,
                end_with_moderator=req.end_with_moderator,
            )
            made = tx.reservations.add_reservation(draft, now)
            if within is not None:
                within(tx, made)
            self._changed(tx, None, made)
            return made

    def book(
        self,
        starts_at: datetime | None,
        minutes: int | None,
        seats: int,
        profile: str | None = None,
        kind: ReservationKind = ReservationKind.PANEL,
    ) -> Reservation:
        """Operator booking (CLI, tests): like ``request`` but without the lead-time rule."""
        if (starts_at is None) != (minutes is None):
            raise RuleViolation("starts_at", "give both start and length, or neither for an anytime room")
        if minutes is not None and minutes < 1:
            raise RuleViolation("minutes", "at least 1 minute", "too_short")
        kind = ReservationKind.ANYTIME if starts_at is None else kind
        ends_at = starts_at + timedelta(minutes=minutes) if starts_at and minutes else None
        profile_id = self.profile_named(profile or self._s.default_profile).id
        return self.request(profile_id, BookingRequest(kind, starts_at, ends_at, seats), operator=True)

    def _check_room_limit(self, tx: Transaction, profile_id: int, now: datetime) -> None:
        """R27 on the panel plan: at most so many active rooms; none on the provider plan (R45)."""
        profile = tx.reservations.get_profile(profile_id)
        plan = profile.account_plan if profile is not None else DEFAULT_PLAN
        limit = room_limit(plan, self._s.max_active_per_profile)
        if limit is not None and tx.reservations.count_active(profile_id, now) >= limit:
            raise RuleViolation(
                "profile", f"at most {limit} active rooms per profile: delete one first", "too_many_rooms"
            )

    def _new_room(self, tx: Transaction, profile_id: int, now: datetime) -> Room:
        pin, admin_pin = new_pins(self._s.pin_length)
        number = new_conference_number(tx.reservations.live_numbers(), self._s.conference_number_length)
        return tx.reservations.add_room(RoomDraft(number, pin, admin_pin, profile_id), now)

    def _fits(self, tx: Transaction, start: datetime, end: datetime, seats: int, exclude: int | None) -> bool:
        """Whether ``seats`` more fit over [start, end) beside the bookings and the live seats
        (booking.services.seats.seats_fit: the capacity ledger's slots)."""
        return seats_fit(tx, self._s, start, end, seats, exclude)

    def _check_capacity(
        self,
        tx: Transaction,
        start: datetime | None,
        end: datetime | None,
        seats: int,
        exclude: int | None = None,
        earliest: datetime | None = None,
    ) -> None:
        if start is None or end is None:
            return  # anytime rooms hold no seats in advance; their members do (services.seats)
        # The suggested alternatives are looked for only when the booking does not fit.
        if self._fits(tx, start, end, seats, exclude):
            return
        now = earliest or self._clock.now()
        raise CapacityExceeded(refusal(tx, self._s, start, end, seats, now, exclude), seats)

    # --- reading, editing, deleting ---------------------------------------------------

    def _owned(self, tx: Transaction, profile_id: int, reservation_id: int) -> Reservation:
        r = tx.reservations.get_reservation(reservation_id)
        # Another profile's reservation is reported exactly like a missing one.
        if r is None or r.room.profile_id != profile_id or r.status is ReservationStatus.DELETED:
            raise NotFound(f"no reservation {reservation_id}")
        return r

    def reservation(self, reservation_id: int) -> Reservation | None:
        """Any reservation by id, whoever owns it (the operator's and the moderator's view)."""
        with self._uow(read_only=True) as tx:
            return tx.reservations.get_reservation(reservation_id)

    def profile(self, profile_id: int) -> Profile | None:
        with self._uow(read_only=True) as tx:
            return tx.reservations.get_profile(profile_id)

    def find_profile(self, name: str) -> int | None:
        """The id of the profile with this name, if there is one."""
        with self._uow(read_only=True) as tx:
            return tx.reservations.find_profile(name)

    def get(self, profile_id: int, reservation_id: int) -> Reservation:
        with self._uow(read_only=True) as tx:
            return self._owned(tx, profile_id, reservation_id)

    def visible_reservations(self, profile_id: int) -> list[Reservation]:
        """R27: live reservations, and ended ones for an hour after their end."""
        now = self._clock.now()
        with self._uow(read_only=True) as tx:
            found = tx.reservations.reservations_for_profile(profile_id)
        return [r for r in found if r.visible(now, self._s.ended_visible)]

    def reservations_of(self, profile: str) -> list[Reservation]:
        with self._uow(read_only=True) as tx:
            profile_id = tx.reservations.find_profile(profile)
            return [] if profile_id is None else tx.reservations.reservations_for_profile(profile_id)

    def edit(
        self,
        profile_id: int,
        reservation_id: int,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        seats: int | None = None,
        max_participants: int | None = None,
        title: str | None = None,
        dial_out: bool | None = None,
        record: bool | None = None,
        wait_for_moderator: bool | None = None,
        end_with_moderator: bool | None = None,
    ) -> Reservation:
        """Change times, seats or title; number and PINs stay (R24). Rules and capacity re-checked."""
        now = self._clock.now()
        with self._uow() as tx:
            tx.reservations.lock_capacity()
            old = self._owned(tx, profile_id, reservation_id)
            new = dataclasses.replace(
                old,
                starts_at=starts_at if starts_at is not None else old.starts_at,
                ends_at=ends_at if ends_at is not None else old.ends_at,
                seats=seats if seats is not None else old.seats,
                max_participants=max_participants if max_participants is not None else old.max_participants,
                title=title if title is not None else old.title,
                dial_out=dial_out if dial_out is not None else old.dial_out,
                record=record if record is not None else old.record,
                wait_for_moderator=_given(wait_for_moderator, old.wait_for_moderator),
                end_with_moderator=_given(end_with_moderator, old.end_with_moderator),
            )
            req = _request_of(new, new.starts_at, new.ends_at)
            # A reservation that keeps its start is not held to the lead-time rule again.
            assessment = rules.assess(req, now, self._s, check_lead=new.starts_at != old.starts_at)
            if assessment.violations:
                raise assessment.violations[0]
            if assessment.needs_operator:
                new = dataclasses.replace(
                    new, status=ReservationStatus.PENDING, note="; ".join(assessment.over_limit)
                )
            else:
                # Back within the limits: a queued request no longer needs an operator.
                self._check_capacity(tx, new.starts_at, new.ends_at, new.seats, exclude=old.id)
                new = dataclasses.replace(new, status=ReservationStatus.ACTIVE, note="")
            tx.reservations.update_reservation(new)
            self._changed(tx, old, new)
            return new

    def delete(self, profile_id: int, reservation_id: int) -> None:
        """R27: deleting frees the profile's slot, the seats and the conference number."""
        with self._uow() as tx:
            tx.reservations.lock_capacity()  # the ledger changes: before any row is written
            self._delete(tx, self._owned(tx, profile_id, reservation_id))

    def cancel(self, reservation_id: int) -> Reservation:
        """Operator action (R12): delete any profile's reservation by id."""
        with self._uow() as tx:
            tx.reservations.lock_capacity()
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.status is ReservationStatus.DELETED:
                raise NotFound(f"no reservation {reservation_id}")
            self._delete(tx, r)
            return r

    def _delete(self, tx: Transaction, r: Reservation) -> None:
        deleted = dataclasses.replace(r, status=ReservationStatus.DELETED)
        tx.reservations.update_reservation(deleted)
        tx.reservations.release_room(r.room.id, self._clock.now())
        self._changed(tx, r, deleted)

    def copy(self, profile_id: int, reservation_id: int, starts_at: datetime | None) -> Reservation:
        """R48: a past conference started again: same kind, length, seats and title, new codes."""
        with self._uow(read_only=True) as tx:
            old = tx.reservations.get_reservation(reservation_id)
        if old is None or old.room.profile_id != profile_id:
            raise NotFound(f"no reservation {reservation_id}")
        length = old.ends_at - old.starts_at if old.starts_at and old.ends_at else None
        if old.kind is ReservationKind.ANYTIME:
            starts_at = None
        elif starts_at is None or length is None:
            raise RuleViolation("starts_at", "a copy of a dated conference needs a new start", "date_missing")
        ends_at = starts_at + length if starts_at is not None and length is not None else None
        return self.request(
            profile_id,
            _request_of(old, starts_at, ends_at),
        )

    # --- the live conference's end (R9) ---------------------------------------------------

    def try_extend(self, reservation_id: int, until: datetime) -> bool:
        """Extend a running reservation to ``until`` if the shared capacity has room for its
        seats until then (no other booking, nor a live member of an anytime room, needs them).
        Atomic with other bookings and live seats."""
        with self._uow() as tx:
            tx.reservations.lock_capacity()
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.status is not ReservationStatus.ACTIVE or r.ends_at is None:
                return False
            if until <= r.ends_at:
                return True
            # No reservation is longer than the store's bound (the capacity reads rely on it).
            longest = timedelta(days=self._s.absolute_max_window_days)
            if r.starts_at is not None and until - r.starts_at > longest:
                return False
            if not self._fits(tx, r.ends_at, until, r.seats, exclude=r.id):
                return False
            tx.reservations.update_reservation(dataclasses.replace(r, ends_at=until))
            return True

    # --- operator queue ---------------------------------------------------------------

    def queue(self) -> list[Reservation]:
        with self._uow(read_only=True) as tx:
            return tx.reservations.pending()

    def approve(self, reservation_id: int) -> Reservation:
        """Confirm a queued request; the capacity rule still applies."""
        with self._uow() as tx:
            tx.reservations.lock_capacity()
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.status is not ReservationStatus.PENDING:
                raise NotFound(f"no queued request {reservation_id}")
            self._check_capacity(tx, r.starts_at, r.ends_at, r.seats, exclude=r.id)
            approved = dataclasses.replace(r, status=ReservationStatus.ACTIVE, note="approved by operator")
            tx.reservations.update_reservation(approved)
            self._changed(tx, r, approved)
            return approved

    def reject(self, reservation_id: int, reason: str) -> Reservation:
        now = self._clock.now()
        with self._uow() as tx:
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.status is not ReservationStatus.PENDING:
                raise NotFound(f"no queued request {reservation_id}")
            rejected = dataclasses.replace(r, status=ReservationStatus.REJECTED, note=reason[:500])
            tx.reservations.update_reservation(rejected)
            tx.reservations.release_room(r.room.id, now)
            self._changed(tx, r, rejected)
            return rejected


__all__ = ["BookingService", "hash_token"]


def _request_of(r: Reservation, starts_at: datetime | None, ends_at: datetime | None) -> BookingRequest:
    """What ``r`` asks for, at these times: an edit is assessed as a new request, a copy is one."""
    return BookingRequest(
        r.kind, starts_at, ends_at, r.seats, r.max_participants, r.title, r.dial_out, r.record,
        wait_for_moderator=r.wait_for_moderator, end_with_moderator=r.end_with_moderator,
    )  # fmt: skip


def _given(value: bool | None, kept: bool) -> bool:
    return kept if value is None else value
