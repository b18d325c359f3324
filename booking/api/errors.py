"""Booking exceptions as HTTP answers.

RuleViolation     422 {"detail": [{"loc": ["body", field], "msg": reason, "type": code}]},
                  the shape of FastAPI's own validation errors, so a client reads both alike
TooMany           429, the same body, with ``Retry-After`` (seconds)
CapacityExceeded  409 {"error": "capacity", "message", "peak_reserved", "busiest_at",
                  "free_seats", "suggested_starts": [...]}
NotFound          404 {"detail": ...}; another profile's reservation answers exactly the same
Unauthorized      401 {"detail": ...} with ``WWW-Authenticate: Bearer``
RequestValidationError  422 in the same shape, with loc, msg and type only: FastAPI's own answer
                  would also echo ``input`` and ``ctx``, which may hold NaN, bytes or a lone
                  surrogate that cannot be written as JSON (a 500 instead of the 422)

Every text an answer carries passes ``safe_text``: what a client sent (a path segment, a key of
its body) may be quoted in a message, and a lone surrogate there must not break the answer.
Anything else that escapes a route is ``booking.api.failures``' (a generic 500, logged).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from booking.api.schemas import CapacityOut, FieldError, MessageOut, ValidationErrorOut
from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation, TooMany, Unauthorized

MAX_QUOTED = 1000  # characters of one message kept in an answer
MAX_LOC = 100  # ...and of one part of a location (a key a client sent may be any length)


def safe_text(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` as an answer may carry it: lone surrogates written as ``\\udXXX``, at most
    ``limit`` characters."""
    cut = text if len(text) <= limit else text[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def rule_violation_body(exc: RuleViolation) -> ValidationErrorOut:
    error = FieldError(loc=["body", safe_text(exc.field, MAX_LOC)], msg=safe_text(exc.reason), type=exc.code)
    return ValidationErrorOut(detail=[error])


def validation_body(exc: RequestValidationError) -> ValidationErrorOut:
    """FastAPI's errors with loc, msg and type only (never ``input`` nor ``ctx``)."""
    detail = []
    for e in exc.errors():
        loc = [p if isinstance(p, int) else safe_text(str(p), MAX_LOC) for p in e.get("loc", ())]
        detail.append(FieldError(loc=loc, msg=safe_text(str(e.get("msg", ""))), type=str(e.get("type", ""))))
    return ValidationErrorOut(detail=detail)


def capacity_body(exc: CapacityExceeded) -> CapacityOut:
    r = exc.refusal
    return CapacityOut(
        message=str(exc),
        seats=exc.seats,
        peak_reserved=r.peak_reserved,
        busiest_at=r.busiest_at,
        free_seats=r.free_seats,
        suggested_starts=list(r.suggested_starts),
    )


def _json(code: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=code, headers=headers)


async def _rule_violation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return _json(status.HTTP_422_UNPROCESSABLE_CONTENT, rule_violation_body(exc))


async def _too_many(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooMany)
    retry = {"Retry-After": str(exc.retry_after_s)}
    return _json(status.HTTP_429_TOO_MANY_REQUESTS, rule_violation_body(exc), retry)


async def _capacity(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CapacityExceeded)
    return _json(status.HTTP_409_CONFLICT, capacity_body(exc))


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _json(status.HTTP_422_UNPROCESSABLE_CONTENT, validation_body(exc))


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return _json(status.HTTP_404_NOT_FOUND, MessageOut(detail=safe_text(str(exc))))


async def _unauthorized(_request: Request, exc: Exception) -> JSONResponse:
    body = MessageOut(detail=safe_text(str(exc)))
    return _json(status.HTTP_401_UNAUTHORIZED, body, {"WWW-Authenticate": "Bearer"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(RuleViolation, _rule_violation)
    app.add_exception_handler(TooMany, _too_many)  # the most specific class's handler wins
    app.add_exception_handler(CapacityExceeded, _capacity)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Unauthorized, _unauthorized)


# For the OpenAPI document: what each error status carries.
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": MessageOut, "description": "no such reservation"}}
UNAUTHORIZED: Responses = {401: {"model": MessageOut, "description": "missing or unknown token"}}
INVALID: Responses = {
    422: {"model": ValidationErrorOut, "description": "a field is invalid or breaks a booking rule"}
}
TOO_MANY: Responses = {
    429: {"model": ValidationErrorOut, "description": "over a cap or a rate; Retry-After says when to retry"}
}
CAPACITY: Responses = {
    409: {"model": CapacityOut, "description": "the shared capacity is full then; alternatives given"}
}
