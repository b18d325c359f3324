"""The booking exception tree.

BookingError
 ├── NotFound          no such room / reservation (for this profile)
 └── RuleViolation     a booking rule refused the request (field + reason)
"""

from __future__ import annotations


class BookingError(Exception):
    pass


class NotFound(BookingError):
    pass


class RuleViolation(BookingError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
