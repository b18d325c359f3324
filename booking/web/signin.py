"""Sign in and out: a profile token, the operator token, or a conference number + ADMIN PIN.

Every sign-in form carries a token bound to the browser's pre-session cookie (no forged
sign-ins from other sites). The moderator's sign-in is guessing-limited on its own counters
(per client address and per conference, booking.services.dialin.web_sign_in): a wrong guess waits the
growing delay without holding a thread (an async route; store calls in worker threads), and a
wrong number and a wrong ADMIN PIN get one answer.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from booking.domain.model import Role
from booking.services.booking import BookingService
from booking.services.dialin import DialInService, DialInStatus
from booking.web.presession import (
    keep_presession,
    known_moderator_of,
    remember_moderator,
    signin_csrf,
    signin_csrf_ok,
)
from booking.web.render import pages
from booking.web.session import PostingViewer, Viewer, current_viewer, sign_in, sign_out

router = APIRouter(include_in_schema=False)
security = structlog.get_logger("dialconf.security")

BAD_CREDENTIALS = "The conference number or the ADMIN PIN is not right."
TOO_MANY = "Too many wrong PINs were entered from here or for this conference. Please try again later."
EXPIRED = "The form expired: reload the page and try again."
MAX_DIGITS = 12  # as many as the phone menu reads


def _booking(request: Request) -> BookingService:
    svc = request.app.state.booking
    assert isinstance(svc, BookingService)
    return svc


def _dialin(request: Request) -> DialInService:
    svc = request.app.state.dialin
    assert isinstance(svc, DialInService)
    return svc


def _next(target: str, default: str) -> str:
    """Only a path of this site: never a redirect elsewhere."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


def _form(
    request: Request,
    next_path: str,
    errors: dict[str, str],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {"title": "Sign in", "next": next_path, "errors": errors, "signin_csrf": signin_csrf(request)}
    response = pages(request).render(request, "signin.html", context, status_code)
    keep_presession(request, response)
    response.headers.update(headers or {})
    return response


def _expired(request: Request, next_path: str) -> Response:
    return _form(request, next_path, {"form": EXPIRED}, status.HTTP_403_FORBIDDEN)


@router.get("/panel/login")
def login_page(request: Request, next: str = "/panel") -> Response:
    return _form(request, _next(next, "/panel"), {})


def _signed_in(request: Request, viewer: Viewer, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    sign_in(request, response, viewer)
    return response


@router.post("/panel/login")
def login(
    request: Request,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/panel",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    target = _next(next, "/panel")
    if not signin_csrf_ok(request, csrf):
        return _expired(request, target)
    profile = _booking(request).profile_for_token(token.strip())
    if profile is None:
        return _form(request, target, {"token": "Unknown token: check it and try again."}, 401)
    return _signed_in(request, Viewer(profile.name, profile_id=profile.id), target)


@router.post("/panel/login/operator")
def login_operator(
    request: Request,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/dashboard",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    target = _next(next, "/dashboard")
    if not signin_csrf_ok(request, csrf):
        return _expired(request, target)
    expected: str = request.app.state.operator_token
    if not secrets.compare_digest(token.strip().encode(), expected.encode()):
        return _form(request, target, {"operator": "That is not the operator token."}, 401)
    return _signed_in(request, Viewer("operator", operator=True), target)


def _digits(text: str) -> str | None:
    value = text.strip()
    return value if value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS else None


@router.post("/panel/login/moderator")
async def login_moderator(
    request: Request,
    conference: Annotated[str, Form()],
    admin_pin: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    # The page shows who is signed in: read the session here, off the event loop.
    await asyncio.to_thread(current_viewer, request)
    target = _next(next, "/panel")
    if not signin_csrf_ok(request, csrf):
        return _expired(request, target)
    number, code = _digits(conference), _digits(admin_pin)
    if number is None or code is None:
        message = f"Key the conference number and the ADMIN PIN as digits (at most {MAX_DIGITS} each)."
        return _form(request, target, {"admin_pin": message}, status.HTTP_422_UNPROCESSABLE_CONTENT)
    client = request.client.host if request.client else ""
    known = number in known_moderator_of(request)
    outcome = await asyncio.to_thread(_dialin(request).web_sign_in, number, code, client, known)
    r = outcome.reservation
    if outcome.status is DialInStatus.DECIDED and r is not None:
        assert outcome.admission is not None and outcome.admission.role is Role.MODERATOR
        viewer = Viewer(f"moderator of {r.room.conference_number}", reservation_id=r.id)
        response = RedirectResponse(_next(next, f"/panel/reservations/{r.id}/live"), status_code=303)
        await asyncio.to_thread(sign_in, request, response, viewer)
        remember_moderator(request, response, number)
        return response
    if outcome.status is not DialInStatus.BAD_CREDENTIALS:
        event = (
            "security.pin_locked_out"
            if outcome.status is DialInStatus.CALLER_LOCKED
            else "security.pin_throttled"
        )
        security.warning(event, channel="web", conference=number, client=client)
        policy = _dialin(request).web_pin_policy
        locked = outcome.status is DialInStatus.CALLER_LOCKED
        headers = {
            "Retry-After": str(int((policy.lockout if locked else policy.conference_window).total_seconds()))
        }
        return _form(request, target, {"admin_pin": TOO_MANY}, status.HTTP_429_TOO_MANY_REQUESTS, headers)
    security.info(
        "security.bad_credentials", channel="web", conference=number, client=client
    )  # never the PIN
    if outcome.throttle_started:
        security.warning("security.pin_attack", channel="web", conference=number, client=client)
    await asyncio.sleep(outcome.delay_s)  # the growing delay, holding no thread
    return _form(request, target, {"admin_pin": BAD_CREDENTIALS}, status.HTTP_401_UNAUTHORIZED)


@router.post("/panel/logout")
def logout(request: Request, viewer: PostingViewer) -> Response:
    response = RedirectResponse("/panel/login", status_code=303)
    sign_out(request, response, viewer)
    return response
