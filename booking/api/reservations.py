"""A profile's reservations: create, list, show, edit, delete, copy (R20-R24, R27, R32, R48).

Endpoints are plain ``def``: the service is synchronous SQLAlchemy, so FastAPI runs them in
its threadpool and the event loop never waits on the database.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from booking.api import errors
from booking.api.auth import CurrentProfile, Service, Usage
from booking.api.inputs import ReservationId
from booking.api.schemas import CopyIn, LegOut, ReservationIn, ReservationOut, ReservationPatch
from booking.domain.model import Reservation, ReservationStatus

router = APIRouter(prefix="/api/reservations", tags=["reservations"], responses=errors.UNAUTHORIZED)

_CREATED: errors.Responses = {
    201: {"model": ReservationOut, "description": "booked: conference number, PIN and ADMIN PIN"},
    202: {"model": ReservationOut, "description": "over the limits: waits for an operator (pending)"},
}


def _answer(r: Reservation, response: Response, ok: int) -> ReservationOut:
    response.status_code = status.HTTP_202_ACCEPTED if r.status is ReservationStatus.PENDING else ok
    return ReservationOut.of(r)


@router.post(
    "",
    summary="Book a conference room",
    description="201 with the access data when booked; 202 with status `pending` when the request "
    "is over the standard limits (R3) and waits for an operator.",
    status_code=status.HTTP_201_CREATED,
    responses={**_CREATED, **errors.INVALID, **errors.CAPACITY},
)
def create_reservation(
    body: ReservationIn, profile: CurrentProfile, svc: Service, response: Response
) -> ReservationOut:
    return _answer(svc.request(profile.id, body.to_request()), response, status.HTTP_201_CREATED)


@router.get(
    "",
    summary="List the profile's reservations",
    description="Live and pending reservations, and ended ones for an hour after their end (R27).",
)
def list_reservations(profile: CurrentProfile, svc: Service) -> list[ReservationOut]:
    return [ReservationOut.of(r) for r in svc.visible_reservations(profile.id)]


@router.get(
    "/{reservation_id}",
    summary="Show one reservation",
    responses=errors.NOT_FOUND,
)
def show_reservation(reservation_id: ReservationId, profile: CurrentProfile, svc: Service) -> ReservationOut:
    return ReservationOut.of(svc.get(profile.id, reservation_id))


@router.get(
    "/{reservation_id}/participants",
    summary="Participants of the reservation's sessions (usage legs)",
    description="R53: who joined, from which number, as what, when, and how the leg ended.",
    responses=errors.NOT_FOUND,
)
def participants(reservation_id: ReservationId, profile: CurrentProfile, usage: Usage) -> list[LegOut]:
    return [LegOut.of(leg) for leg in usage.history(profile.id, reservation_id)]


@router.patch(
    "/{reservation_id}",
    summary="Edit a reservation",
    description="Only the fields given change; the conference number and PINs stay (R24). "
    "Rules and capacity are checked again; 202 when the change needs an operator.",
    responses={**_CREATED, **errors.NOT_FOUND, **errors.INVALID, **errors.CAPACITY},
)
def edit_reservation(
    reservation_id: ReservationId,
    body: ReservationPatch,
    profile: CurrentProfile,
    svc: Service,
    response: Response,
) -> ReservationOut:
    start = body.starts_at
    if body.minutes is not None and start is None:
        start = svc.get(profile.id, reservation_id).starts_at  # a new length from the kept start
    edited = svc.edit(
        profile.id,
        reservation_id,
        starts_at=body.starts_at,
        ends_at=body.new_end(start),
        seats=body.seats,
        max_participants=body.max_participants,
        title=body.title,
        dial_out=body.dial_out,
        record=body.record,
        wait_for_moderator=body.wait_for_moderator,
        end_with_moderator=body.end_with_moderator,
    )
    return _answer(edited, response, status.HTTP_200_OK)


@router.delete(
    "/{reservation_id}",
    summary="Delete a reservation",
    description="Frees the profile's slot, the seats and the conference number (R27).",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors.NOT_FOUND,
)
def delete_reservation(reservation_id: ReservationId, profile: CurrentProfile, svc: Service) -> Response:
    svc.delete(profile.id, reservation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{reservation_id}/copy",
    summary="Copy a reservation into a new one",
    description="Same kind, length, seats and title with a new conference number and PINs (R48).",
    status_code=status.HTTP_201_CREATED,
    responses={**_CREATED, **errors.NOT_FOUND, **errors.INVALID, **errors.CAPACITY},
)
def copy_reservation(
    reservation_id: ReservationId, body: CopyIn, profile: CurrentProfile, svc: Service, response: Response
) -> ReservationOut:
    copied = svc.copy(profile.id, reservation_id, body.starts_at)
    return _answer(copied, response, status.HTTP_201_CREATED)
