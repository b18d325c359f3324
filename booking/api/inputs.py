"""Bounded input types of the API: every number, moment, text and path segment a client sends is
one of these, so FastAPI answers 422 naming the field before any rule or the store sees it
(``booking.domain.bounds`` says why each bound is what it is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from booking.domain.bounds import STORE_INT_MAX, moment_problem, text_problem


def _moment(at: datetime) -> datetime:
    problem = moment_problem(at)
    if problem is not None:
        raise PydanticCustomError("datetime_out_of_range", problem)
    return at


def _line(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise PydanticCustomError("text_character", problem)
    return text


def _text(text: str) -> str:
    problem = text_problem(text, multiline=True)
    if problem is not None:
        raise PydanticCustomError("text_character", problem)
    return text


def _not_a_bool(value: object) -> object:
    # pydantic reads true as 1 ("seats": true books one seat); a client sending it is confused.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer, not true or false")
    return value


# Whole numbers that fit the store: counts (seats, minutes, participants) and limits.
# (The bounds before the validator: so they are the int's own, and OpenAPI says minimum/maximum.)
Positive = Annotated[int, Field(ge=1, le=STORE_INT_MAX), BeforeValidator(_not_a_bool)]
NonNegative = Annotated[int, Field(ge=0, le=STORE_INT_MAX), BeforeValidator(_not_a_bool)]

# An ISO 8601 moment with a UTC offset, between 1970 and 2999.
Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
LINE, TEXT = AfterValidator(_line), AfterValidator(_text)
# One line of text: no control characters, no lone surrogates (lengths are set per field).
Line = Annotated[str, LINE]
# Text of several lines: tabs and line ends allowed, other control characters not.
Text = Annotated[str, TEXT]
# An optional field's length goes before LINE or TEXT, inside the optional:
# ``Annotated[str, Field(max_length=200), LINE] | None`` (else pydantic counts "items").

# Path parameters: ids are positive and fit the store; anything else is a 422 naming them.
ReservationId = Annotated[int, Path(ge=1, le=STORE_INT_MAX, description="a reservation's id")]
ProfileId = Annotated[int, Path(ge=1, le=STORE_INT_MAX, description="a profile's id")]
SessionId = Annotated[Line, Path(max_length=64, description="ConfBridge's id of the session")]
LockoutKey = Annotated[Line, Path(max_length=64, description="conference:<number> or caller:<number>")]
