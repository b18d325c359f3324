"""Who is looking at a page: a signed session cookie backed by a live session in the store,
and CSRF tokens for forms (before and after signing in).

A session is signed (HMAC-SHA256 with the installation's web secret) and says who signed in:
a profile (with its API token: the organizer's panel), the operator (with the operator
token: the dashboard), or the moderator of one reservation (its conference number and ADMIN
PIN, counted against the web's own PIN-guessing limits). The cookie is honoured only while its
session is live in the store (``booking.web.session_store``): signing out revokes it at once.
The cookie is HttpOnly, SameSite=Strict and, by setting, Secure. Every form carries a CSRF
token: bound to the session once signed in, and before that to a short-lived pre-session
cookie (booking.web.presession), so a sign-in cannot be forged from another site either.
Any cookie or token that is not plain ASCII is no session / a bad form, never an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, Form, HTTPException, Request, Response, status

from booking.domain.clock import Clock

COOKIE = "dialconf_session"
SIGNIN_COOKIE = "dialconf_signin"  # the pre-session cookie sign-in forms' tokens are bound to
SIGNIN_PATH = "/panel/login"  # the sign-in page and its three forms
MAX_AGE_S = 12 * 3600
_NOT_RESOLVED = object()


@dataclass(frozen=True)
class CookiePolicy:
    """How the web pages' cookies are set; the composition root fills it from settings."""

    secure: bool = False  # send only over HTTPS (ApiSettings.cookie_secure)
    session_s: float = MAX_AGE_S
    signin_form_s: float = 3600  # how long a sign-in form's token stays good
    known_moderator_s: float = 30 * 86400  # how long a browser is remembered as a moderator's


@dataclass(frozen=True)
class Viewer:
    """The signed-in person. Exactly one of: a profile, the operator, a reservation's moderator."""

    name: str
    profile_id: int | None = None
    operator: bool = False
    reservation_id: int | None = None  # signed in with a conference number and ADMIN PIN
    nonce: str = ""  # the session's id: binds CSRF tokens to it, and is what signing out revokes
    issued: int = 0

    def may_moderate(self, profile_id: int, reservation_id: int) -> bool:
        return self.operator or self.profile_id == profile_id or self.reservation_id == reservation_id

    @property
    def subject(self) -> str:
        if self.operator:
            return "operator"
        if self.profile_id is not None:
            return f"profile:{self.profile_id}"
        return f"reservation:{self.reservation_id}"


class Sessions(Protocol):
    """The store of live sessions (booking.web.session_store.SessionStore)."""

    def open(self, viewer: Viewer, expires_at: datetime) -> None: ...

    def is_live(self, nonce: str) -> bool: ...

    def revoke(self, nonce: str) -> bool: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Signer:
    """Seals small JSON payloads; each kind has its own MAC, so no value passes for another."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the web secret must be at least 16 characters")
        self._key = hashlib.sha256(secret.encode()).digest()

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self._key, data, hashlib.sha256).digest())

    def seal(self, kind: str, payload: dict[str, Any]) -> str:
        data = _b64(json.dumps(payload).encode())
        return f"{data}.{self._mac(f'{kind}:{data}'.encode())}"

    def open(self, kind: str, value: str) -> dict[str, Any] | None:
        """The payload of a value this signer sealed as ``kind``; None for anything else."""
        if not value.isascii():  # a cookie or field from anywhere: only our own ASCII is ours
            return None
        data, _, mac = value.partition(".")
        if not data or not hmac.compare_digest(mac.encode(), self._mac(f"{kind}:{data}".encode()).encode()):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except ValueError:
            return None
        return raw if isinstance(raw, dict) else None

    def dumps(self, viewer: Viewer) -> str:
        return self.seal("session", asdict(viewer))

    def loads(self, value: str, now: float, max_age_s: float = MAX_AGE_S) -> Viewer | None:
        raw = self.open("session", value)
        if raw is None:
            return None
        try:
            viewer = Viewer(**raw)
        except TypeError:
            return None
        if not isinstance(viewer.issued, int) or not 0 <= now - viewer.issued <= max_age_s:
            return None
        return viewer

    def csrf(self, viewer: Viewer) -> str:
        return self._mac(f"csrf:{viewer.nonce}".encode())

    def signin_token(self, presession: str, issued: int) -> str:
        return f"{issued}.{self._mac(f'signin:{presession}:{issued}'.encode())}"

    def signin_token_ok(self, token: str, presession: str, now: float, max_age_s: float) -> bool:
        if not (token.isascii() and presession.isascii() and presession):
            return False
        issued, _, _mac = token.partition(".")
        if not issued.isdigit() or not 0 <= now - int(issued) <= max_age_s:
            return False
        return hmac.compare_digest(token.encode(), self.signin_token(presession, int(issued)).encode())


# --- what install_web put on the app -----------------------------------------------------------


def signer(request: Request) -> Signer:
    s = request.app.state.web_signer
    assert isinstance(s, Signer)
    return s


def cookie_policy(request: Request) -> CookiePolicy:
    p = request.app.state.web_cookies
    assert isinstance(p, CookiePolicy)
    return p


def _sessions(request: Request) -> Sessions:
    s: Sessions = request.app.state.web_sessions
    return s


def web_clock(request: Request) -> Clock:
    c: Clock = request.app.state.web_clock
    return c


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age_s: float, path: str
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(max_age_s),
        httponly=True,
        samesite="strict",
        secure=cookie_policy(request).secure,
        path=path,
    )


def _delete_cookie(request: Request, response: Response, name: str, path: str) -> None:
    secure = cookie_policy(request).secure
    response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="strict")


# --- sessions ----------------------------------------------------------------------------------


def sign_in(request: Request, response: Response, viewer: Viewer) -> Viewer:
    """A new session (a new id, never one the browser brought) stored live, and its cookie.
    Writes to the store: call it off the event loop."""
    policy = cookie_policy(request)
    now = web_clock(request).now()
    fresh = Viewer(
        viewer.name,
        viewer.profile_id,
        viewer.operator,
        viewer.reservation_id,
        secrets.token_urlsafe(24),
        int(now.timestamp()),
    )
    _sessions(request).open(fresh, now + timedelta(seconds=policy.session_s))
    set_cookie(request, response, COOKIE, signer(request).dumps(fresh), policy.session_s, "/")
    _delete_cookie(request, response, SIGNIN_COOKIE, SIGNIN_PATH)  # its form is used up
    request.state.viewer = fresh
    return fresh


def sign_out(request: Request, response: Response, viewer: Viewer) -> None:
    """Revoke the session in the store (the cookie is worthless from now on) and drop it."""
    _sessions(request).revoke(viewer.nonce)
    _delete_cookie(request, response, COOKIE, "/")
    request.state.viewer = None


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer, or None: no cookie, a bad or expired one, or a revoked session.
    One indexed read per request (kept for the rest of it); call it off the event loop."""
    cached = getattr(request.state, "viewer", _NOT_RESOLVED)
    if cached is not _NOT_RESOLVED:
        return cached if isinstance(cached, Viewer) else None
    viewer = None
    value = request.cookies.get(COOKIE)
    if value:
        now = web_clock(request).now().timestamp()
        found = signer(request).loads(value, now, cookie_policy(request).session_s)
        if found is not None and _sessions(request).is_live(found.nonce):
            viewer = found
    request.state.viewer = viewer
    return viewer


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
    if not csrf or not csrf.isascii() or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form expired: reload the page and try again")
    return viewer


SignedIn = Annotated[Viewer, Depends(require_viewer)]
OperatorViewer = Annotated[Viewer, Depends(require_operator)]
PostingViewer = Annotated[Viewer, Depends(check_csrf)]
