"""Sign in and out: a profile token, the operator token, or a conference number + ADMIN PIN."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from booking.domain.model import Role, Verdict
from booking.service import BookingService
from booking.web.render import pages
from booking.web.session import PostingViewer, Viewer, sign_in, sign_out

router = APIRouter(include_in_schema=False)


def _booking(request: Request) -> BookingService:
    svc = request.app.state.booking
    assert isinstance(svc, BookingService)
    return svc


def _next(target: str, default: str) -> str:
    """Only a path of this site: never a redirect elsewhere."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


def _form(request: Request, next_path: str, errors: dict[str, str], status_code: int = 200) -> Response:
    return pages(request).render(
        request, "signin.html", {"title": "Sign in", "next": next_path, "errors": errors}, status_code
    )


@router.get("/panel/login")
def login_page(request: Request, next: str = "/panel") -> Response:
    return _form(request, _next(next, "/panel"), {})


def _signed_in(request: Request, viewer: Viewer, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    sign_in(request, response, viewer)
    return response


@router.post("/panel/login")
def login(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/panel"
) -> Response:
    profile = _booking(request).profile_for_token(token.strip())
    if profile is None:
        return _form(request, _next(next, "/panel"), {"token": "Unknown token: check it and try again."}, 401)
    return _signed_in(request, Viewer(profile.name, profile_id=profile.id), _next(next, "/panel"))


@router.post("/panel/login/operator")
def login_operator(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/dashboard"
) -> Response:
    expected: str = request.app.state.operator_token
    if not secrets.compare_digest(token.strip().encode(), expected.encode()):
        return _form(request, _next(next, "/dashboard"), {"operator": "That is not the operator token."}, 401)
    return _signed_in(request, Viewer("operator", operator=True), _next(next, "/dashboard"))


@router.post("/panel/login/moderator")
def login_moderator(
    request: Request,
    conference: Annotated[str, Form()],
    admin_pin: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    # The same PIN-guessing limits as a call: per "caller" (the browser's address) and conference.
    who = f"web:{request.client.host if request.client else 'unknown'}"
    outcome = _booking(request).dial_in(conference.strip(), admin_pin.strip(), caller=who)
    admission, r = outcome.admission, outcome.reservation
    if admission is None or r is None or r.id is None or admission.role is not Role.MODERATOR:
        locked = admission is not None and admission.verdict is Verdict.LOCKED_OUT
        message = (
            "Too many wrong PINs: try again later."
            if locked
            else "No conference with this number and ADMIN PIN."
        )
        return _form(request, _next(next, "/panel"), {"admin_pin": message}, 401)
    viewer = Viewer(f"moderator of {r.room.conference_number}", reservation_id=r.id)
    return _signed_in(request, viewer, _next(next, f"/panel/reservations/{r.id}/live"))


@router.post("/panel/logout")
def logout(viewer: PostingViewer) -> Response:
    response = RedirectResponse("/panel/login", status_code=303)
    sign_out(response)
    return response
