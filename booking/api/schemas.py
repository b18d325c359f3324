"""Request and response bodies of the booking API (pydantic models, documented in OpenAPI).

Simple limits (types, ranges, lengths, what the store can hold: ``booking.api.inputs``) are
checked here and reported by FastAPI's own 422;
the booking rules (R3, R23, R24, R27, R30, R43) stay in ``booking.domain.rules`` and come back
as the same 422 shape through ``booking.api.errors``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from booking.api.inputs import LINE, Line, Moment, Positive
from booking.domain.account_plans import AccountPlan
from booking.domain.errors import RuleViolation
from booking.domain.model import Profile, Reservation, ReservationKind, ReservationStatus
from booking.domain.pin_guard import Attempts
from booking.domain.rules import BookingRequest
from booking.domain.usage import Leg

PENDING_MESSAGE = (
    "over the standard limits ({note}): the request waits in the operator queue and an operator "
    "will review it; its status shows the outcome"
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- profiles ---------------------------------------------------------------------------


class ProfileIn(_In):
    name: Line = Field(min_length=1, max_length=100, description="unique profile name")
    language: str = Field(
        default="en", pattern=r"^[a-z]{2}$", description="menu language, ISO 639-1 (en, cs, de, fr)"
    )


class ProfileOut(BaseModel):
    id: int
    name: str
    language: str
    account_plan: AccountPlan = Field(
        description="panel: at most 3 active rooms (R27); provider: any number of rooms (R45)"
    )

    @classmethod
    def of(cls, p: Profile) -> ProfileOut:
        return cls(id=p.id, name=p.name, language=p.language, account_plan=p.account_plan)


class AccountPlanIn(_In):
    account_plan: AccountPlan = Field(
        examples=["provider"],
        description="panel (the default: at most 3 active rooms, R27) or provider (any number, R45)",
    )


class ProfileCreated(ProfileOut):
    token: str = Field(description="the profile's API token: shown once, only its hash is stored")


# --- reservations -----------------------------------------------------------------------


def _end(starts_at: datetime | None, ends_at: datetime | None, minutes: int | None) -> datetime | None:
    if ends_at is not None and minutes is not None:
        raise RuleViolation("minutes", "give either ends_at or minutes, not both", "end_ambiguous")
    if minutes is not None:
        if starts_at is None:
            raise RuleViolation("starts_at", "minutes need a start", "date_missing")
        return starts_at + timedelta(minutes=minutes)
    return ends_at


WAIT_FOR_MODERATOR = "participants hear hold music until the first moderator joins"
END_WITH_MODERATOR = "the conference ends, after a spoken notice, when the last moderator leaves"


class ReservationIn(_In):
    kind: ReservationKind = Field(
        default=ReservationKind.PANEL,
        description="on_demand (<= 120 min, <= 20 seats), panel (a window of <= 14 days, "
        "<= 30 seats, 10 minutes to 30 days ahead) or anytime (no date, until deleted)",
    )
    starts_at: Moment | None = Field(default=None, description="ISO 8601 with a UTC offset")
    ends_at: Moment | None = Field(default=None, description="end of the reservation")
    minutes: Positive | None = Field(default=None, description="length instead of ends_at")
    seats: Positive = Field(description="participants reserved in the shared capacity")
    max_participants: Positive | None = Field(
        default=None, description="the booker's own maximum (R43), at most seats"
    )
    title: Line = Field(default="", max_length=200)
    dial_out: bool = Field(
        default=False,
        description="R40: at the start the system calls the phone numbers the reservation lists",
    )
    record: bool = Field(default=False, description="each session is recorded (everyone hears so)")
    wait_for_moderator: bool = Field(default=False, description=WAIT_FOR_MODERATOR)
    end_with_moderator: bool = Field(default=False, description=END_WITH_MODERATOR)

    def to_request(self) -> BookingRequest:
        return BookingRequest(
            self.kind,
            self.starts_at,
            _end(self.starts_at, self.ends_at, self.minutes),
            self.seats,
            self.max_participants,
            self.title,
            self.dial_out,
            self.record,
            wait_for_moderator=self.wait_for_moderator,
            end_with_moderator=self.end_with_moderator,
        )


class ReservationPatch(_In):
    """Only the fields given change; the conference number and PINs stay (R24)."""

    starts_at: Moment | None = None
    ends_at: Moment | None = None
    minutes: Positive | None = Field(default=None, description="new length from the (new) start")
    seats: Positive | None = None
    max_participants: Positive | None = None
    title: Annotated[str, Field(max_length=200), LINE] | None = None
    dial_out: bool | None = None
    record: bool | None = None
    wait_for_moderator: bool | None = Field(default=None, description=WAIT_FOR_MODERATOR)
    end_with_moderator: bool | None = Field(default=None, description=END_WITH_MODERATOR)

    def new_end(self, start: datetime | None) -> datetime | None:
        """The new end, if any: ``ends_at``, or ``minutes`` from ``start`` (new or kept)."""
        return _end(start, self.ends_at, self.minutes)


class CopyIn(_In):
    starts_at: Moment | None = Field(
        default=None, description="start of the copy; required unless the original is an anytime room"
    )


class ReservationOut(BaseModel):
    id: int
    kind: ReservationKind
    status: ReservationStatus
    starts_at: datetime | None
    ends_at: datetime | None
    seats: int
    max_participants: int | None
    title: str
    dial_out: bool = Field(
        default=False, description="the system calls the listed numbers at the start (R40)"
    )
    record: bool = Field(default=False, description="each session is recorded")
    wait_for_moderator: bool = Field(default=False, description=WAIT_FOR_MODERATOR)
    end_with_moderator: bool = Field(default=False, description=END_WITH_MODERATOR)
    note: str = Field(description="why it waits for an operator, or why it was rejected")
    conference_number: str
    pin: str
    admin_pin: str = Field(description="grants moderator rights (R31)")
    message: str | None = Field(default=None, description="what happens next, for pending requests")

    @classmethod
    def of(cls, r: Reservation) -> ReservationOut:
        pending = r.status is ReservationStatus.PENDING
        return cls(
            id=r.id,
            kind=r.kind,
            status=r.status,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            seats=r.seats,
            max_participants=r.max_participants,
            title=r.title,
            dial_out=r.dial_out,
            record=r.record,
            wait_for_moderator=r.wait_for_moderator,
            end_with_moderator=r.end_with_moderator,
            note=r.note,
            conference_number=r.room.conference_number,
            pin=r.room.pin,
            admin_pin=r.room.admin_pin,
            message=PENDING_MESSAGE.format(note=r.note) if pending else None,
        )


class QueuedOut(ReservationOut):
    profile_id: int

    @classmethod
    def queued(cls, r: Reservation) -> QueuedOut:
        return cls(**ReservationOut.of(r).model_dump(), profile_id=r.room.profile_id)


class RejectIn(_In):
    reason: Line = Field(min_length=1, max_length=500, description="told to the requester")


class RoomOut(BaseModel):
    conference_number: str
    pin: str
    admin_pin: str
    reservation_id: int
    starts_at: datetime | None
    ends_at: datetime | None
    seats: int

    @classmethod
    def of(cls, r: Reservation) -> RoomOut:
        return cls(
            conference_number=r.room.conference_number,
            pin=r.room.pin,
            admin_pin=r.room.admin_pin,
            reservation_id=r.id,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            seats=r.seats,
        )


# --- error bodies (documented in OpenAPI) -----------------------------------------------


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldError]


class CapacityOut(BaseModel):
    error: str = "capacity"
    message: str
    seats: int = Field(description="seats requested")
    peak_reserved: int = Field(description="seats already reserved at the busiest instant")
    busiest_at: datetime
    free_seats: int = Field(description="the largest seat count that fits the whole window")
    suggested_starts: list[datetime] = Field(description="nearest starts where the seats fit")


class MessageOut(BaseModel):
    detail: str


class PinLockoutOut(BaseModel):
    key: str
    failures: int
    locked_until: datetime

    @classmethod
    def of(cls, a: Attempts) -> PinLockoutOut:
        assert a.locked_until is not None
        return cls(key=a.key, failures=a.failures, locked_until=a.locked_until)


class LegOut(BaseModel):
    uniqueid: str
    caller_number: str
    mobile: bool
    role: str
    has_name: bool
    joined_at: datetime
    left_at: datetime | None
    seconds: float | None
    end_reason: str | None

    @classmethod
    def of(cls, leg: Leg) -> LegOut:
        return cls(
            uniqueid=leg.uniqueid,
            caller_number=leg.caller_number,
            mobile=leg.mobile,
            role=leg.role,
            has_name=leg.name_file is not None,
            joined_at=leg.joined_at,
            left_at=leg.left_at,
            seconds=leg.seconds,
            end_reason=leg.end_reason,
        )
