"""The exception tree of the conference controller and the ``dialconf`` command.

DialconfError
 ├── ProvisioningError      Asterisk could not be found or installed
 ├── AsteriskProcessError   Asterisk did not start, boot or stop in time
 ├── KamailioError          the SIP front (cluster/kamailio.py) refused its config, did not
 │                          start or answer its RPC
 ├── AgiError               a FastAGI exchange failed
 │    ├── AgiHangup         the caller hung up (or the AGI socket closed)
 │    │    └── AgiReplyTimeout  the peer did not answer a command in time: the session is over
 │    └── AgiCommandError   Asterisk answered 510/520 or an unparsable line
 ├── AmiError               an AMI action failed
 │    ├── AmiUnavailable    the manager is not connected, or the action timed out
 │    └── AmiRefused        Asterisk answered Error (``message`` is its text)
 │         ├── NoSuchConference  no conference by that name (or none at all)
 │         └── NoSuchChannel     the channel is not (or no longer) there
 ├── CallerGaveUp           a call ends before joining; ``reason`` labels the failure metric
 └── UsageError             input a ``dialconf`` command cannot use (exit 2)

The booking package's errors (booking.domain.errors, booking.store.errors) and the web pages'
port (booking.web.ports) are trees of their own.
"""

from __future__ import annotations

import enum


class JoinFailure(enum.StrEnum):
    """Why a call ended without joining (CallerGaveUp; the join-failure metric's labels)."""

    BAD_CREDENTIALS = "bad_credentials"  # wrong conference number or PIN, every round used
    PIN_LOCKED = "pin_locked"  # the caller number is locked out (PIN guessing)
    PIN_THROTTLED = "pin_throttled"  # the conference is under guessing, the caller unknown to it
    TOO_EARLY = "too_early"
    OVER = "over"
    LOCKED = "locked"
    FULL = "full"
    SYSTEM_FULL = "system_full"  # every seat of the system is held (R7): an anytime room's join
    NO_INPUT = "no_input"
    HANGUP = "hangup"
    UNAVAILABLE = "unavailable"  # an error on our side
    DECLINED = "declined"  # a dial-out call answered but not accepted
    WEB_TOKEN = "web_token"  # a browser's call token refused: unknown, used, expired, cancelled
    RELAY_TICKET = "relay_ticket"  # a relayed call without a valid ticket (issue 21)


class DialconfError(Exception):
    """Base of every error this package raises on purpose."""


class ProvisioningError(DialconfError):
    pass


class AsteriskProcessError(DialconfError):
    pass


class KamailioError(DialconfError):
    pass


class AgiError(DialconfError):
    pass


class AgiHangup(AgiError):
    pass


class AgiReplyTimeout(AgiHangup):
    pass


class AgiCommandError(AgiError):
    pass


class AmiError(DialconfError):
    pass


class AmiUnavailable(AmiError):
    """Not connected to the manager, or no reply in time."""


class AmiRefused(AmiError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


class NoSuchConference(AmiRefused):
    """Asterisk 22 says "No Conference by that name found." or "No active conferences."."""


class NoSuchChannel(AmiRefused):
    """Asterisk 22 says "No Channel by that name found." (the member left meanwhile)."""


def refusal(action: str, message: str) -> AmiRefused:
    """Asterisk's Error answer to ``action``, typed by what it says (the one place that reads it)."""
    if message.startswith(("No Conference", "No active conferences")):
        return NoSuchConference(action, message)
    if message.startswith("No Channel"):
        return NoSuchChannel(action, message)
    return AmiRefused(action, message)


class CallerGaveUp(DialconfError):
    """The call ends without joining; ``reason`` labels the failure metric."""

    def __init__(self, reason: JoinFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason


class UsageError(DialconfError):
    """Input a ``dialconf`` command cannot use (exit 2)."""
