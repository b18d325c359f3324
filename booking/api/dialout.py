"""Dial-out calls of a reservation (R40, R50): see them, call someone (again) from the web."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from booking.api import errors
from booking.api.auth import CurrentProfile, Service
from booking.api.inputs import LINE, ReservationId
from booking.dialout import DialOutService
from booking.domain.dialout import DialCall

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
        assert c.id is not None
        return cls(
            id=c.id,
            number=c.number,
            state=c.state.value,
            attempts=c.attempts,
            last_outcome=c.last_outcome,
            requested_by=c.requested_by,
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
    description="The controller places the call within a second. Only digits with an optional leading + "
    "that match the installation's allow-list are dialled (422 otherwise).",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**errors.NOT_FOUND, **errors.INVALID},
)
def place_call(
    reservation_id: ReservationId, body: CallIn, profile: CurrentProfile, svc: Service, calls: Calls
) -> list[CallOut]:
    svc.get(profile.id, reservation_id)
    if body.number:
        return [CallOut.of(calls.request(reservation_id, body.number, "web"))]
    return [CallOut.of(c) for c in calls.recall_missing(reservation_id, calls.present(reservation_id), "web")]
