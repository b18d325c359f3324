"""Bodies of the billing endpoints: statements, sessions, reports, tariffs, plans.

Money is a string with two decimals (``"275.88"``, CZK), never a float: what a client adds up
stays exact. Rates (``vat_rate``) are decimal strings too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from booking.api.inputs import Line, Text
from booking.domain.statement import ReportRow, SessionLine, Statement
from booking.services.billing import RatingRun

CENT = Decimal("0.01")
Money = Annotated[
    str,
    Field(pattern=r"^-?\d+\.\d{2}$", description="CZK with two decimals, as a string", examples=["275.88"]),
]


def money(amount: Decimal) -> str:
    return format(amount.quantize(CENT, ROUND_HALF_UP), "f")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- statements (R51, R52) ----------------------------------------------------------------


class SessionLineOut(BaseModel):
    reservation_id: int | None
    session_id: str | None
    conference_number: str
    started_at: datetime
    participants: int = Field(description="participant legs: a caller who dialled in twice counts twice")
    seconds: int
    billed_seconds: int = Field(description="participant time billed, after the plan's minimum and increment")
    net: Money

    @classmethod
    def of(cls, line: SessionLine) -> SessionLineOut:
        return cls(
            reservation_id=line.reservation_id,
            session_id=line.session_id,
            conference_number=line.conference_number,
            started_at=line.started_at,
            participants=line.participants,
            seconds=line.seconds,
            billed_seconds=line.billed_s,
            net=money(line.net),
        )


class StatementOut(BaseModel):
    profile_id: int
    month: str = Field(description="YYYY-MM, a calendar month of the service's time zone")
    plan: str
    lines: list[SessionLineOut] = Field(description="one per conference session")
    usage_net: Money
    minimum_top_up: Money = Field(description="what the plan's monthly minimum adds")
    net: Money
    vat_rate: str = Field(examples=["0.21"])
    vat: Money
    gross: Money
    callers_gross: Money = Field(
        description="what the callers' own carriers bill them for the connection, for information (R52)"
    )
    sms_count: int = Field(0, description="paid SMS notices sent to invitees in the month (R21)")
    sms_net: Money = Field("0.00", description="what they cost, at the tariff's SMS price (in net)")

    @classmethod
    def of(cls, s: Statement) -> StatementOut:
        return cls(
            profile_id=s.profile_id,
            month=s.month,
            plan=s.plan,
            lines=[SessionLineOut.of(line) for line in s.lines],
            usage_net=money(s.usage_net),
            minimum_top_up=money(s.minimum_top_up),
            net=money(s.net),
            vat_rate=format(s.vat_rate.normalize(), "f"),
            vat=money(s.vat),
            gross=money(s.gross),
            callers_gross=money(s.callers_gross),
            sms_count=len(s.sms),
            sms_net=money(s.sms_net),
        )


# --- sessions and their reports (R29, R53) ------------------------------------------------


class SessionOut(BaseModel):
    session_id: str = Field(description="ConfBridge's id of the session; empty when none was recorded")
    started_at: datetime = Field(description="the first join")
    legs: int


class ReportRowOut(BaseModel):
    caller_number: str
    role: str
    name_file: str | None = Field(description="the recorded name, as Asterisk stored it")
    joined_at: datetime
    left_at: datetime | None
    end_reason: str | None
    seconds: int
    billed_seconds: int
    amount: Money = Field(description="what the organizer pays for this leg, without VAT")
    caller_gross: Money = Field(description="the caller's own connection charge, with VAT (R52)")

    @classmethod
    def of(cls, row: ReportRow) -> ReportRowOut:
        return cls(
            caller_number=row.caller_number,
            role=row.role,
            name_file=row.name_file,
            joined_at=row.joined_at,
            left_at=row.left_at,
            end_reason=row.end_reason,
            seconds=row.seconds,
            billed_seconds=row.billed_s,
            amount=money(row.net),
            caller_gross=money(row.caller_gross),
        )


# --- tariffs, rating, plans (operator) ----------------------------------------------------


class TariffOut(BaseModel):
    version: int
    text: str = Field(description="the tariff file in force (TOML, as booking/domain/tariffs.toml)")


class TariffIn(_In):
    text: Text = Field(min_length=1, max_length=200_000, description="a whole tariff file (TOML)")
    note: Line = Field(default="", max_length=200, description="why (kept with the version)")
    fix: bool = Field(
        default=False,
        description="a correction of prices already in force (then re-rate the months it touches); "
        "without it a price change must start at least 31 days ahead (R62)",
    )


class TariffVersionOut(BaseModel):
    version: int


class RatingRunOut(BaseModel):
    month: str
    tariff_version: int
    legs: int = Field(description="closed legs that joined in the month")
    changed: int = Field(description="ratings written now: new legs, or legs a tariff fix prices differently")
    dropped: int = Field(description="ratings of legs no longer in the month")

    @classmethod
    def of(cls, run: RatingRun) -> RatingRunOut:
        return cls(
            month=run.month,
            tariff_version=run.tariff_version,
            legs=run.legs,
            changed=run.changed,
            dropped=run.dropped,
        )


class PlanIn(_In):
    plan: Line = Field(
        min_length=1, max_length=40, examples=["professional"], description="a plan of the tariff"
    )


class PlanOut(BaseModel):
    profile_id: int
    plan: str
