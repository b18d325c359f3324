"""Calls: who joined which conference (usage legs), the dial-out calls, and what the legs cost
(tariffs, plans and rated legs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from booking.domain.dialout import DialCall, DialCallDraft
from booking.domain.model import Role
from booking.domain.rating import RatedLeg
from booking.domain.usage import EndReason, Leg


class Usage(Protocol):
    """Usage legs: one per channel that joined a conference."""

    def open(self, leg: Leg) -> bool:
        """Record a leg unless its unique id is there already (replays are harmless)."""
        ...

    def close(self, uniqueid: str, at: datetime, reason: EndReason) -> bool:
        """Close an open leg; a leg already closed keeps its first end."""
        ...

    def get(self, uniqueid: str) -> Leg | None: ...

    def open_legs(self, node: str | None = None) -> list[Leg]:
        """The open legs, of one media node's members (``node``) or of all (None)."""
        ...

    def roles_of(self, reservation_id: int, caller_number: str) -> set[Role]:
        """The roles this caller number joined the reservation in."""
        ...

    def for_reservation(self, reservation_id: int) -> list[Leg]: ...

    def mark_cap_warned(self, uniqueid: str, at: datetime) -> bool:
        """The caller heard the mobile cap's warning (a second mark keeps the first)."""
        ...

    def recorded_name(self, reservation_id: int, caller_number: str) -> str | None:
        """The name this caller number last recorded in the reservation."""
        ...

    def name_files(self, reservation_id: int) -> list[str]: ...

    def expired_names(self, left_before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(unique id, name file) of names to delete: a deleted or refused reservation's, and
        those whose leg ended before ``left_before``."""
        ...

    def forget_names(self, uniqueids: list[str]) -> int: ...


class DialOuts(Protocol):
    """Dial-out calls: durable, so a controller restart neither loses nor repeats one."""

    def add(self, call: DialCallDraft, now: datetime, profile_id: int) -> DialCall: ...

    def put(self, call: DialCall) -> None: ...

    def get(self, call_id: int) -> DialCall | None: ...

    def for_reservation(self, reservation_id: int) -> list[DialCall]: ...

    def due(self, now: datetime) -> list[DialCall]: ...

    def in_flight(self) -> list[DialCall]: ...

    def ringing_or_due(self, reservation_id: int, number: str) -> DialCall | None:
        """The reservation's call to ``number`` that is still under way, if any."""
        ...

    def starts_due(self, now: datetime) -> list[int]:
        """Dial-out reservations whose start has come and whose invitees were never planned."""
        ...

    def lock_profile(self, profile_id: int) -> None:
        """Serialise one profile's dial-out requests, so two at once cannot both pass a cap."""
        ...

    def reservation_calls_since(self, reservation_id: int, since: datetime) -> list[tuple[datetime, bool]]:
        """(created at, asked for by a moderator or the web) of the reservation's calls."""
        ...

    def profile_calls_since(self, profile_id: int, since: datetime) -> list[datetime]: ...


class Billing(Protocol):
    """Tariff versions, account plans and rated legs."""

    def current_tariff(self) -> tuple[int, str] | None:
        """(version, text) of the tariff in force, if one was loaded."""
        ...

    def add_tariff(self, text: str, note: str, now: datetime) -> int: ...

    def plan_of(self, profile_id: int) -> str | None: ...

    def set_plan(self, profile_id: int, plan: str) -> None: ...

    def closed_legs(self, since: datetime, until: datetime) -> list[tuple[Leg, int | None]]:
        """Closed legs that joined in [since, until), each with the profile that owns it."""
        ...

    def legs(self, uniqueids: Sequence[str]) -> dict[str, Leg]: ...

    def rated(self, month: str, profile_id: int | None = None) -> list[RatedLeg]: ...

    def rated_for(self, uniqueids: Sequence[str]) -> dict[str, RatedLeg]: ...

    def put_rated(self, found: RatedLeg, version: int, now: datetime, before: RatedLeg | None) -> bool:
        """Write a rating; an unchanged one is left as it is. True if written."""
        ...

    def drop_rated(self, month: str, keep: set[str]) -> int:
        """Drop ratings of ``month`` whose leg is not in ``keep``; how many."""
        ...
