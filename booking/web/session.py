"""Who is looking at a page: a signed session cookie, and CSRF tokens for forms.

A session is signed (HMAC-SHA256 with the installation's web secret) and says who signed in:
a profile (with its API token: the organizer's panel), the operator (with the operator
token: the dashboard), or the moderator of one reservation (its conference number and ADMIN
PIN, counted against the same PIN-guessing limits as calls). The cookie is HttpOnly and
SameSite=Strict; every form also carries a CSRF token bound to the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request, Response, status

COOKIE = "dialconf_session"
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class Viewer:
    """The signed-in person. Exactly one of: a profile, the operator, a reservation's moderator."""

    name: str
    profile_id: int | None = None
    operator: bool = False
    reservation_id: int | None = None  # signed in with a conference number and ADMIN PIN
    nonce: str = ""  # binds CSRF tokens to this session
    issued: int = 0

    def may_moderate(self, profile_id: int, reservation_id: int) -> bool:
        return self.operator or self.profile_id == profile_id or self.reservation_id == reservation_id


class Signer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the web secret must be at least 16 characters")
        self._key = hashlib.sha256(secret.encode()).digest()

    def _mac(self, data: bytes) -> str:
        return (
            base64.urlsafe_b64encode(hmac.new(self._key, data, hashlib.sha256).digest()).decode().rstrip("=")
        )

    def dumps(self, viewer: Viewer) -> str:
        data = base64.urlsafe_b64encode(json.dumps(asdict(viewer)).encode()).decode().rstrip("=")
        return f"{data}.{self._mac(data.encode())}"

    def loads(self, value: str, now: float | None = None) -> Viewer | None:
        data, _, mac = value.partition(".")
        if not data or not hmac.compare_digest(mac, self._mac(data.encode())):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            viewer = Viewer(**raw)
        except (ValueError, TypeError):
            return None
        if (now or time.time()) - viewer.issued > MAX_AGE_S:
            return None
        return viewer

    def csrf(self, viewer: Viewer) -> str:
        return self._mac(f"csrf:{viewer.nonce}".encode())


def signer(request: Request) -> Signer:
    s = request.app.state.web_signer
    assert isinstance(s, Signer)
    return s


def sign_in(request: Request, response: Response, viewer: Viewer) -> Viewer:
    fresh = Viewer(
        viewer.name,
        viewer.profile_id,
        viewer.operator,
        viewer.reservation_id,
        secrets.token_urlsafe(12),
        int(time.time()),
    )
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE,
        signer(request).dumps(fresh),
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return fresh


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def current_viewer(request: Request) -> Viewer | None:
    value = request.cookies.get(COOKIE)
    return None if not value else signer(request).loads(value)


class SignInRequired(Exception):
    """Raised by page dependencies; the web app answers with a redirect to the sign-in page."""


def require_viewer(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise SignInRequired(request.url.path)
    return viewer


def require_operator(viewer: Annotated[Viewer, Depends(require_viewer)]) -> Viewer:
    if not viewer.operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the operator's page: sign in with the operator token")
    return viewer


def check_csrf(
    request: Request, viewer: Annotated[Viewer, Depends(require_viewer)], csrf: Annotated[str, Form()] = ""
) -> Viewer:
    """For every POST: the form's token must be this session's (SameSite alone is not enough
    for older browsers). JavaScript callers send it as a form field too."""
    expected = signer(request).csrf(viewer)
    if not csrf or not hmac.compare_digest(csrf, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form expired: reload the page and try again")
    return viewer


SignedIn = Annotated[Viewer, Depends(require_viewer)]
OperatorViewer = Annotated[Viewer, Depends(require_operator)]
PostingViewer = Annotated[Viewer, Depends(check_csrf)]
