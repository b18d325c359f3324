"""The booking exception tree.

BookingError
 ├── NotFound           no such room / reservation (for this profile)
 ├── RuleViolation      a booking rule refused the request: field, reason, code
 │    └── TooMany       a cap on repeated requests: also when to try again
 ├── CapacityExceeded   the shared capacity is full then: carries the structured refusal
 └── Unauthorized       no profile for the presented token (API)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from booking.domain.capacity import CapacityRefusal


class BookingError(Exception):
    pass


class NotFound(BookingError):
    pass


class Unauthorized(BookingError):
    pass


class RuleViolation(BookingError):
    """``code`` is stable (for translations and clients); ``reason`` is English prose."""

    def __init__(self, field: str, reason: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code


class TooMany(RuleViolation):
    """Too many requests in a window: ``retry_after_s`` until one more would fit."""

    def __init__(self, field: str, reason: str, code: str, retry_after_s: int) -> None:
        super().__init__(field, reason, code)
        self.retry_after_s = retry_after_s


class CapacityExceeded(BookingError):
    def __init__(self, refusal: CapacityRefusal, seats: int) -> None:
        super().__init__(
            f"{seats} seats do not fit: {refusal.peak_reserved} of the system's seats are already "
            f"reserved at {refusal.busiest_at:%Y-%m-%d %H:%M} UTC; {refusal.free_seats} would fit"
        )
        self.refusal = refusal
        self.seats = seats
