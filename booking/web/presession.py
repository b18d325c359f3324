"""Before a session exists: the sign-in forms' CSRF tokens, bound to a short-lived pre-session
cookie (a sign-in cannot be forged from another site), and the browsers known as a
conference's moderator (a signed cookie: heard while that conference's web sign-in is
throttled by guessing, booking.services.dialin.web_sign_in)."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from booking.web.session import SIGNIN_COOKIE, SIGNIN_PATH, cookie_policy, set_cookie, signer, web_clock

KNOWN_COOKIE = "dialconf_moderator"  # conferences this browser signed in to as moderator
KNOWN_LIMIT = 20  # conferences remembered per browser (the most recent)


def signin_csrf(request: Request) -> str:
    """The token for the sign-in forms of this page, bound to the browser's pre-session cookie
    (a new one when it has none or a useless one: ``keep_presession`` then sets it)."""
    presession = getattr(request.state, "presession", None) or request.cookies.get(SIGNIN_COOKIE, "")
    if not (presession.isascii() and 16 <= len(presession) <= 64):
        presession = secrets.token_urlsafe(24)
        request.state.new_presession = True
    request.state.presession = presession
    return signer(request).signin_token(presession, int(web_clock(request).now().timestamp()))


def keep_presession(request: Request, response: Response) -> None:
    if getattr(request.state, "new_presession", False):
        policy = cookie_policy(request)
        set_cookie(
            request, response, SIGNIN_COOKIE, request.state.presession, policy.signin_form_s, SIGNIN_PATH
        )


def signin_csrf_ok(request: Request, token: str) -> bool:
    presession = request.cookies.get(SIGNIN_COOKIE, "")
    now = web_clock(request).now().timestamp()
    return signer(request).signin_token_ok(token, presession, now, cookie_policy(request).signin_form_s)


def known_moderator_of(request: Request) -> list[str]:
    """Conference numbers this browser signed in to as moderator before (its signed cookie)."""
    raw = signer(request).open("moderator", request.cookies.get(KNOWN_COOKIE, ""))
    if raw is None:
        return []
    issued, numbers = raw.get("issued"), raw.get("numbers")
    now = web_clock(request).now().timestamp()
    if not isinstance(issued, int) or not 0 <= now - issued <= cookie_policy(request).known_moderator_s:
        return []
    return [n for n in numbers if isinstance(n, str)] if isinstance(numbers, list) else []


def remember_moderator(request: Request, response: Response, conference_number: str) -> None:
    numbers = [n for n in known_moderator_of(request) if n != conference_number][-(KNOWN_LIMIT - 1) :]
    payload = {"numbers": [*numbers, conference_number], "issued": int(web_clock(request).now().timestamp())}
    value = signer(request).seal("moderator", payload)
    set_cookie(request, response, KNOWN_COOKIE, value, cookie_policy(request).known_moderator_s, SIGNIN_PATH)
