"""Bearer-token dependencies: a profile's API token, or the operator token.

Both are plain ``def`` dependencies: looking a token up reads the database, so FastAPI runs
them in its threadpool. A missing or unknown token raises ``Unauthorized`` (401).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from booking.domain.errors import Unauthorized
from booking.domain.model import Profile
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.services.usage import UsageService

_profile_bearer = HTTPBearer(
    auto_error=False, scheme_name="profile token", description="a profile's API token"
)
_operator_bearer = HTTPBearer(
    auto_error=False, scheme_name="operator token", description="the operator token of this installation"
)

Credentials = HTTPAuthorizationCredentials | None


def service(request: Request) -> BookingService:
    svc = request.app.state.booking
    assert isinstance(svc, BookingService)
    return svc


Service = Annotated[BookingService, Depends(service)]


def dialin(request: Request) -> DialInService:
    svc = request.app.state.dialin
    assert isinstance(svc, DialInService)
    return svc


def usage(request: Request) -> UsageService:
    svc = request.app.state.usage
    assert isinstance(svc, UsageService)
    return svc


DialIn = Annotated[DialInService, Depends(dialin)]
Usage = Annotated[UsageService, Depends(usage)]


def current_profile(svc: Service, creds: Annotated[Credentials, Depends(_profile_bearer)]) -> Profile:
    if creds is None or not creds.credentials:
        raise Unauthorized("a profile API token is required (Authorization: Bearer <token>)")
    profile = svc.profile_for_token(creds.credentials)
    if profile is None:
        raise Unauthorized("unknown API token")
    return profile


def require_operator(request: Request, creds: Annotated[Credentials, Depends(_operator_bearer)]) -> None:
    expected: str = request.app.state.operator_token
    if creds is None or not creds.credentials:
        raise Unauthorized("the operator token is required (Authorization: Bearer <token>)")
    if not secrets.compare_digest(creds.credentials.encode(), expected.encode()):
        raise Unauthorized("not the operator token")


CurrentProfile = Annotated[Profile, Depends(current_profile)]
Operator = Depends(require_operator)
