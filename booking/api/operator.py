"""Operator endpoints (operator token): profiles and their account plans (R27, R45), and the
queue of over-limit requests (R3, R4)."""

from __future__ import annotations

from fastapi import APIRouter, status

from booking.api import errors
from booking.api.auth import DialIn, Operator, Service
from booking.api.inputs import LockoutKey, ProfileId, ReservationId
from booking.api.schemas import (
    AccountPlanIn,
    MessageOut,
    PinLockoutOut,
    ProfileCreated,
    ProfileIn,
    ProfileOut,
    QueuedOut,
    RejectIn,
)
from booking.domain.errors import NotFound

router = APIRouter(prefix="/api", tags=["operator"], dependencies=[Operator], responses=errors.UNAUTHORIZED)
NO_PROFILE: errors.Responses = {404: {"model": MessageOut, "description": "no such profile"}}


@router.post(
    "/profiles",
    summary="Create a profile and its API token",
    description="The token is in this answer only; the store keeps its hash.",
    status_code=status.HTTP_201_CREATED,
    responses=errors.INVALID,
)
def create_profile(body: ProfileIn, svc: Service) -> ProfileCreated:
    profile, token = svc.create_profile(body.name, body.language)
    return ProfileCreated(**ProfileOut.of(profile).model_dump(), token=token)


@router.put(
    "/profiles/{profile_id}/account-plan",
    summary="Put a profile on an account plan",
    description="`panel` (every profile's default): at most 3 active rooms at once (R27); `provider`: "
    "any number of rooms in parallel, each with its own codes (R45). Not the tariff's plan "
    "(`PUT /api/profiles/{profile_id}/plan`). The profile's rooms stay as they are.",
    responses={**NO_PROFILE, **errors.INVALID},
)
def set_account_plan(profile_id: ProfileId, body: AccountPlanIn, svc: Service) -> ProfileOut:
    return ProfileOut.of(svc.set_account_plan(profile_id, body.account_plan))


@router.get("/queue", summary="Requests waiting for an operator", tags=["queue"])
def queue(svc: Service) -> list[QueuedOut]:
    return [QueuedOut.queued(r) for r in svc.queue()]


@router.post(
    "/queue/{reservation_id}/approve",
    summary="Approve a queued request",
    description="The shared capacity still applies: 409 with alternatives when it is full.",
    tags=["queue"],
    responses={**errors.NOT_FOUND, **errors.CAPACITY},
)
def approve(reservation_id: ReservationId, svc: Service) -> QueuedOut:
    return QueuedOut.queued(svc.approve(reservation_id))


@router.post(
    "/queue/{reservation_id}/reject",
    summary="Reject a queued request",
    description="Frees its room; the reason is kept in the reservation's note.",
    tags=["queue"],
    responses={**errors.NOT_FOUND, **errors.INVALID},
)
def reject(reservation_id: ReservationId, body: RejectIn, svc: Service) -> QueuedOut:
    return QueuedOut.queued(svc.reject(reservation_id, body.reason))


@router.get(
    "/pin-lockouts",
    summary="PIN guessing lockouts in force",
    description="Caller numbers (`caller:`) and web clients (`web:`) locked out, conferences "
    "(`conference:`, `web-conference:`) throttled: only callers they know are heard until `locked_until`.",
    tags=["security"],
)
def pin_lockouts(svc: DialIn) -> list[PinLockoutOut]:
    return [PinLockoutOut.of(a) for a in svc.pin_lockouts()]


@router.delete(
    "/pin-lockouts/{key}",
    summary="Clear a PIN guessing lockout",
    description="Forgets the wrong PINs of `caller:<number>`, `conference:<number>`, `web:<address>` "
    "or `web-conference:<number>`.",
    tags=["security"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors.NOT_FOUND,
)
def clear_pin_lockout(key: LockoutKey, svc: DialIn) -> None:
    if not svc.clear_pin_lockout(key):
        raise NotFound(f"no wrong PINs recorded for {key}")
