"""The ports the use cases are written against: a ``UnitOfWork`` that yields a ``Transaction``,
whose attributes are the repositories, one protocol per aggregate (listing only what the
services, the web and the API call).

Why here, in the service layer: the use cases own what they need from a store (dependency
inversion, as in cosmicpython's service layer), so a service imports nothing of SQLAlchemy and
a test can hand it an in-memory fake (tests/support/fakes). The store implements these
protocols structurally, without inheriting them; booking.store.unit_of_work has mypy check
that the SQL repositories fit. Only booking.domain types cross these ports.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from booking.services.ports.access import PinAttempts, WebSessions
from booking.services.ports.calls import Billing, DialOuts, Usage
from booking.services.ports.cluster import Cluster
from booking.services.ports.join_links import JoinLinks
from booking.services.ports.live import Live
from booking.services.ports.messaging import Confirmations, Messages
from booking.services.ports.recordings import Recordings
from booking.services.ports.reservations import Reservations
from booking.services.ports.statements import Attachments, Statements


class Transaction(Protocol):
    """The repositories of one transaction, one per aggregate."""

    @property
    def reservations(self) -> Reservations: ...
    @property
    def pins(self) -> PinAttempts: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def dialout(self) -> DialOuts: ...
    @property
    def messages(self) -> Messages: ...
    @property
    def confirmations(self) -> Confirmations: ...
    @property
    def billing(self) -> Billing: ...
    @property
    def web_sessions(self) -> WebSessions: ...
    @property
    def live(self) -> Live: ...
    @property
    def statements(self) -> Statements: ...
    @property
    def attachments(self) -> Attachments: ...
    @property
    def recordings(self) -> Recordings: ...
    @property
    def join_links(self) -> JoinLinks: ...
    @property
    def cluster(self) -> Cluster: ...


class UnitOfWork(Protocol):
    """What services are given: ``with uow() as tx`` (a write), ``uow(read_only=True)`` (a read)."""

    def __call__(self, read_only: bool = False) -> AbstractContextManager[Transaction]: ...


__all__ = [
    "Attachments",
    "Billing",
    "Cluster",
    "Confirmations",
    "DialOuts",
    "JoinLinks",
    "Live",
    "Messages",
    "PinAttempts",
    "Recordings",
    "Reservations",
    "Statements",
    "Transaction",
    "UnitOfWork",
    "Usage",
    "WebSessions",
]
