"""The booking exception tree: everything the booking package raises on purpose.

BookingError
 ├── NotFound           no such room / reservation (for this profile)
 ├── RuleViolation      a booking rule refused the request: field, reason, code
 │    └── TooMany       a cap on repeated requests: also when to try again
 ├── CapacityExceeded   the shared capacity is full then: carries the structured refusal
 ├── Unauthorized       no profile for the presented token (API)
 ├── KeywordError       an order text that is no keyword: code, language, parameters (R2)
 ├── AddressError       neither a phone number nor an e-mail address
 │    └── BadSender     the sender of an incoming message is neither: nothing stored, no reply
 ├── TariffError        a tariff file entry that cannot be used (the message names it)
 ├── MailRefused        an incoming e-mail that cannot be taken: the SMTP answer to give
 ├── CodeUsed           a confirmation code another message used (or voided) first
 ├── SecretFileError    a kept secret's file is there but empty
 ├── JoinRefused        a join link or call token that does not let in, and why
 │                      (booking.domain.join_links: it carries the link's refusal code)
 └── GatewayError       a message gateway failed
      ├── DeliveryError     could not hand a message over now: retried later
      │    └── Undeliverable    the gateway can never take it (too long): not retried
      └── KannelError       Kannel did not start, answer or stop in time

The store's own errors (booking.store.errors) and the web pages' port to the controller
(booking.web.ports) have trees of their own.
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


class KeywordError(BookingError):
    """What is wrong with the text: ``code`` picks the message, ``params`` fill it in.

    ``lang`` is the language the text itself names (None when even the keyword is unknown).
    """

    def __init__(self, code: str, lang: str | None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.lang = lang
        self.params = params


class AddressError(BookingError):
    """Neither a phone number nor an e-mail address (the message says which was expected)."""


class BadSender(AddressError):
    """The sender is no phone number or e-mail address: nothing is stored, nobody answered."""


class TariffError(BookingError):
    """A tariff file entry that cannot be used; the message names it and the field."""


class MailRefused(BookingError):
    """The message cannot be taken; ``reply`` is the SMTP answer (code, status, reason)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class CodeUsed(BookingError):
    """The confirmation this message would use was used (or voided) by another one first."""


class SecretFileError(BookingError):
    """A kept secret's file exists but holds nothing."""


class GatewayError(BookingError):
    """A message gateway (Kannel, the SMTP relay) failed."""


class DeliveryError(GatewayError):
    """The gateway refused or could not take the message; the dispatcher retries later."""


class Undeliverable(DeliveryError):
    """The gateway can never take this message (e.g. more SMS parts than allowed)."""


class KannelError(GatewayError):
    """Kannel did not start, answer or stop in time."""
