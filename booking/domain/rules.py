"""The booking rules as the sources state them, checked against an injected ``now``.

``assess`` sorts what is wrong with a request into hard violations (refused, fix and resend)
and over-limit reasons (R3 "non-standard" conferences: they wait for an operator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking.domain.errors import RuleViolation
from booking.domain.model import ReservationKind
from booking.settings import BookingSettings


@dataclass(frozen=True)
class BookingRequest:
    kind: ReservationKind
    starts_at: datetime | None
    ends_at: datetime | None
    seats: int
    max_participants: int | None = None  # R43: the booker's own maximum, at most ``seats``
    title: str = ""
    dial_out: bool = False  # R40: the system calls the listed phone numbers at the start
    record: bool = False  # issue 19: each session is recorded
    wait_for_moderator: bool = False  # participants wait until the first moderator joins
    end_with_moderator: bool = False  # the conference ends when the last moderator leaves

    @property
    def length(self) -> timedelta | None:
        if self.starts_at is None or self.ends_at is None:
            return None
        return self.ends_at - self.starts_at


@dataclass(frozen=True)
class Assessment:
    violations: list[RuleViolation] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)  # why an operator must approve

    @property
    def needs_operator(self) -> bool:
        return not self.violations and bool(self.over_limit)


def _seat_limit(kind: ReservationKind, s: BookingSettings) -> int:
    return {
        ReservationKind.ON_DEMAND: s.on_demand_max_seats,
        ReservationKind.PANEL: s.panel_max_seats,
        ReservationKind.ANYTIME: s.anytime_max_seats,
    }[kind]


def _length_limit(kind: ReservationKind, s: BookingSettings) -> timedelta | None:
    if kind is ReservationKind.ON_DEMAND:
        return timedelta(minutes=s.on_demand_max_minutes)
    if kind is ReservationKind.PANEL:
        return timedelta(days=s.panel_max_window_days)
    return None


def assess(req: BookingRequest, now: datetime, s: BookingSettings, check_lead: bool = True) -> Assessment:
    """``check_lead=False`` skips R23's "at least 10 minutes ahead" (operators; edits that
    keep a start already reached)."""
    v: list[RuleViolation] = []
    over: list[str] = []
    if req.seats < 1:
        v.append(RuleViolation("seats", "at least 1 participant", "seats_too_few"))
    elif req.seats > _seat_limit(req.kind, s):
        over.append(f"{req.seats} participants is more than the {_seat_limit(req.kind, s)} allowed")
    if req.max_participants is not None and not 1 <= req.max_participants <= req.seats:
        v.append(RuleViolation("max_participants", "between 1 and the seats reserved", "max_out_of_range"))

    if req.kind is ReservationKind.ANYTIME:
        if req.starts_at is not None or req.ends_at is not None:
            v.append(RuleViolation("starts_at", "an anytime room has no date", "anytime_has_date"))
        return Assessment(v, over)

    if req.starts_at is None or req.ends_at is None:
        v.append(RuleViolation("starts_at", "a start and an end (or a length) are needed", "date_missing"))
        return Assessment(v, over)
    if req.ends_at <= req.starts_at:
        v.append(RuleViolation("ends_at", "must be after the start", "end_before_start"))
        return Assessment(v, over)

    ahead = req.starts_at - now
    max_ahead = timedelta(days=s.panel_max_ahead_days)
    if (
        check_lead
        and req.kind is ReservationKind.PANEL
        and ahead < timedelta(minutes=s.panel_min_lead_minutes)
    ):
        v.append(
            RuleViolation(
                "starts_at", f"must be at least {s.panel_min_lead_minutes} minutes from now", "start_too_soon"
            )
        )
    elif req.kind is ReservationKind.ON_DEMAND and req.starts_at < now - s.join_lead:
        v.append(RuleViolation("starts_at", "is in the past", "start_in_past"))
    if ahead > max_ahead:
        v.append(
            RuleViolation(
                "starts_at", f"must be at most {s.panel_max_ahead_days} days ahead", "start_too_far"
            )
        )

    length = req.ends_at - req.starts_at
    if length > timedelta(days=s.absolute_max_window_days):
        v.append(
            RuleViolation(
                "ends_at", f"a reservation lasts at most {s.absolute_max_window_days} days", "too_long"
            )
        )
    else:
        limit = _length_limit(req.kind, s)
        if limit is not None and length > limit:
            over.append(f"{_minutes(length)} is longer than the {_minutes(limit)} allowed")
    return Assessment(v, over)


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} days"
    return f"{minutes} minutes"
