"""The calling profile: who it is and its live rooms with their codes."""

from __future__ import annotations

from fastapi import APIRouter

from booking.api import errors
from booking.api.auth import CurrentProfile, Service
from booking.api.schemas import ProfileOut, RoomOut
from booking.domain.model import ReservationStatus

router = APIRouter(prefix="/api", tags=["profile"], responses=errors.UNAUTHORIZED)


@router.get("/me", summary="The profile this token belongs to")
def me(profile: CurrentProfile) -> ProfileOut:
    return ProfileOut.of(profile)


@router.get(
    "/rooms",
    summary="The profile's live rooms",
    description="Conference number, PIN and ADMIN PIN of every confirmed reservation whose room is "
    "still held: until an hour after its end (R27), anytime rooms until deleted. Pending requests "
    "have no usable room yet. Only the calling profile's rooms are listed.",
)
def rooms(profile: CurrentProfile, svc: Service) -> list[RoomOut]:
    found = svc.visible_reservations(profile.id)
    return [RoomOut.of(r) for r in found if r.status is ReservationStatus.ACTIVE]
