"""A unit of work over memory, for service tests (cosmicpython's FakeUnitOfWork).

Each unit works on a copy of the committed state, taken when it begins: the copy becomes the
state only when the ``with`` block ends without an error (and no commit failure was arranged),
so a service's half-done writes vanish exactly as a rolled-back transaction's do. A read-only
unit that changes anything fails the test: the SQL store would have kept those writes, silently.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from booking.services.ports import Transaction, UnitOfWork
from tests.support.fakes.calls import FakePinAttempts, FakeUsage
from tests.support.fakes.live import FakeLive
from tests.support.fakes.recordings import FakeRecordings
from tests.support.fakes.reservations import FakeReservations
from tests.support.fakes.state import FakeState
from tests.support.fakes.unsupported import (
    UnsupportedBilling,
    UnsupportedConfirmations,
    UnsupportedDialOuts,
    UnsupportedMessages,
    UnsupportedWebSessions,
)
from tests.support.fakes.unsupported_cluster import UnsupportedCluster
from tests.support.fakes.unsupported_join import UnsupportedJoinLinks
from tests.support.fakes.unsupported_statements import UnsupportedAttachments, UnsupportedStatements


class FakeTransaction:
    """The repositories of one unit of work, over its working copy of the state."""

    def __init__(self, state: FakeState) -> None:
        self.reservations = FakeReservations(state)
        self.pins = FakePinAttempts(state)
        self.usage = FakeUsage(state)
        self.dialout = UnsupportedDialOuts()
        self.messages = UnsupportedMessages()
        self.confirmations = UnsupportedConfirmations()
        self.billing = UnsupportedBilling()
        self.web_sessions = UnsupportedWebSessions()
        self.live = FakeLive(state)
        self.statements = UnsupportedStatements()
        self.attachments = UnsupportedAttachments()
        self.recordings = FakeRecordings(state)
        self.join_links = UnsupportedJoinLinks()
        self.cluster = UnsupportedCluster()


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.committed = FakeState()  # what a new unit of work sees
        self.commits = 0  # units that ended well and wrote (read-only units are not counted)
        self.rollbacks = 0  # units that ended with an error, or whose commit failed
        self._commit_fails: Exception | None = None

    def fail_next_commit(self, error: Exception) -> None:
        """The next writing unit's commit raises ``error`` (as a busy or lost database would),
        after the service did all its work."""
        self._commit_fails = error

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[FakeTransaction]:
        working = copy.deepcopy(self.committed)
        try:
            yield FakeTransaction(working)
        except BaseException:
            self.rollbacks += 1
            raise
        if read_only:
            assert working == self.committed, "a read-only unit of work changed the store"
            return
        if self._commit_fails is not None:
            error, self._commit_fails = self._commit_fails, None
            self.rollbacks += 1
            raise error
        self.committed = working
        self.commits += 1

    def view(self) -> Transaction:
        """The committed state's repositories, for a test's assertions (changes made through
        it are not kept)."""
        return FakeTransaction(copy.deepcopy(self.committed))


def _implements_the_ports(uow: FakeUnitOfWork, tx: FakeTransaction) -> tuple[UnitOfWork, Transaction]:
    """Never called: mypy proves the fakes are what the services are written against."""
    return uow, tx
