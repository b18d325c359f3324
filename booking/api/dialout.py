"""Dial-out calls of a reservation (R40, R50): see them, call someone (again) from the web.

The rules (a dial-out reservation, its conference running, the number policy, the caps) are
DialOutService's; here the conference runs when the store has open usage legs for it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from booking.api import errors
from booking.api.auth import CurrentProfile, Service
from booking.api.inputs import LINE, ReservationId
from booking.domain.dialout import DialCall, Requester
from booking.services.dialout import DialOutService

router = APIRouter(prefix="/api/reservations", tags=["dial-out"], responses=errors.UNAUTHORIZED)


def dialout(request: Request) -> DialOutService:
    svc = request.app.state.dialout
    assert isinstance(svc, DialOutService)
    return svc


Calls = Annotated[DialOutService, Depends(dialout)]


class CallOut(BaseModel):
    id: int
    number: str
    state: str = Field(description="pending, calling, answered, joined, failed or cancelled")
    attempts: int
    last_outcome: str = Field(description="busy, no_answer, rejected, declined or failed")
    requested_by: str = Field(description="schedule (at the start), moderator (keypad) or web")

    @classmethod
    def of(cls, c: DialCall) -> CallOut:
        return cls(
            id=c.id,
            number=c.number,
            state=c.state.value,
            attempts=c.attempts,
            last_outcome=c.last_outcome.value if c.last_outcome else "",
            requested_by=c.requested_by.value,
        )


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, Field(max_length=32), LINE] | None = Field(
        default=None, description="a number to call; none: call again everyone dialled who is missing"
    )


@router.get(
    "/{reservation_id}/dialout", summary="The reservation's dial-out calls", responses=errors.NOT_FOUND
)
def list_calls(
    reservation_id: ReservationId, profile: CurrentProfile, svc: Service, calls: Calls
) -> list[CallOut]:
    svc.get(profile.id, reservation_id)  # 404 unless it is this profile's
    return [CallOut.of(c) for c in calls.calls(reservation_id)]


@router.post(
    "/{reservation_id}/dialout",
    summary="Call a number now, or call again everyone missing (R50)",
    description="The controller places the call within a second. Only a dial-out reservation "
    "(`dial_out: true`) calls out, and only while someone is in its conference; a number is "
    "called only if the installation's policy admits it (by default the home country's fixed "
    "lines and mobiles). 422 names the field and why, in `detail[0].type`: `not_dial_out`, "
    "`not_running`, `not_dialable`, `premium` (premium rate, shared cost, satellite), `abroad`, "
    "`not_allowed`. 429 with Retry-After: `limit` (calls per reservation or account per day) or "
    "`rate` (per reservation per minute, per account per hour). A number already being called is "
    "not called twice (its call is returned).",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**errors.NOT_FOUND, **errors.INVALID, **errors.TOO_MANY},
)
def place_call(
    reservation_id: ReservationId, body: CallIn, profile: CurrentProfile, svc: Service, calls: Calls
) -> list[CallOut]:
    svc.get(profile.id, reservation_id)
    return [CallOut.of(c) for c in calls.place(reservation_id, body.number or "", Requester.WEB)]
