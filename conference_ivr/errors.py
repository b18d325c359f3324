"""The exception tree of the conference controller.

DialconfError
 ├── ProvisioningError      Asterisk could not be found or installed
 ├── AsteriskProcessError   Asterisk did not start, boot or stop in time
 ├── AgiError               a FastAGI exchange failed
 │    ├── AgiHangup         the caller hung up (or the AGI socket closed)
 │    │    └── AgiReplyTimeout  the peer did not answer a command in time: the session is over
 │    └── AgiCommandError   Asterisk answered 510/520 or an unparsable line
 └── AmiError               an AMI action failed or the manager is unreachable
"""

from __future__ import annotations


class DialconfError(Exception):
    """Base of every error this package raises on purpose."""


class ProvisioningError(DialconfError):
    pass


class AsteriskProcessError(DialconfError):
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
