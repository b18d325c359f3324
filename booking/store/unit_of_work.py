"""A unit of work: one transaction, committed on success, rolled back on any error, and every
repository over it.

``SqlUnitOfWork()`` yields a ``SqlTransaction`` whose attributes are the SQL repositories, one
per aggregate. They implement the services' ports (booking.services.ports: ``UnitOfWork``,
``Transaction`` and a protocol per repository) structurally, without importing them (the
store depends on no service); the composition root hands them over, and mypy checks them there.
Errors of the driver become the store's own (booking.store.errors) here, so no caller above
the store catches SQLAlchemy's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from booking.store.billing import BillingRepository
from booking.store.cluster import ClusterRepository
from booking.store.confirmations import ConfirmationRepository
from booking.store.dialout import DialOutRepository
from booking.store.engine import wal_checkpointer, writer_queue
from booking.store.errors import Duplicate, StoreBusy, StoreError, StoreUnavailable
from booking.store.join_links import JoinLinkRepository
from booking.store.live import LiveRepository
from booking.store.messaging import MessagingRepository
from booking.store.pin_attempts import PinAttemptsRepository
from booking.store.recordings import RecordingRepository
from booking.store.reservations import ReservationRepository
from booking.store.statements import AttachmentRepository, StatementRepository
from booking.store.usage import UsageRepository
from booking.store.web_sessions import WebSessionRepository


class SqlTransaction:
    """The SQL repositories of one transaction (built when first used)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for the few statements that differ."""
        return self._conn.dialect.name

    @cached_property
    def reservations(self) -> ReservationRepository:
        """Profiles, rooms, reservations and the capacity they hold."""
        return ReservationRepository(self._conn)

    @cached_property
    def pins(self) -> PinAttemptsRepository:
        return PinAttemptsRepository(self._conn)

    @cached_property
    def usage(self) -> UsageRepository:
        return UsageRepository(self._conn)

    @cached_property
    def dialout(self) -> DialOutRepository:
        return DialOutRepository(self._conn)

    @cached_property
    def messages(self) -> MessagingRepository:
        """Senders, incoming messages, invitees, the outbox and invitations."""
        return MessagingRepository(self._conn)

    @cached_property
    def confirmations(self) -> ConfirmationRepository:
        return ConfirmationRepository(self._conn)

    @cached_property
    def billing(self) -> BillingRepository:
        return BillingRepository(self._conn)

    @cached_property
    def live(self) -> LiveRepository:
        """The live conferences' end decisions and live seats."""
        return LiveRepository(self._conn)

    @cached_property
    def recordings(self) -> RecordingRepository:
        """The conferences' recordings (one per session)."""
        return RecordingRepository(self._conn)

    @cached_property
    def join_links(self) -> JoinLinkRepository:
        """The browsers' join links and call tokens (issue 20)."""
        return JoinLinkRepository(self._conn)

    @cached_property
    def cluster(self) -> ClusterRepository:
        """The media nodes, the conferences' leases, the placements in flight (issue 21)."""
        return ClusterRepository(self._conn)

    @cached_property
    def web_sessions(self) -> WebSessionRepository:
        return WebSessionRepository(self._conn)

    @cached_property
    def statements(self) -> StatementRepository:
        """The month-end run, the profiles' mail settings, the paid SMS sent."""
        return StatementRepository(self._conn)

    @cached_property
    def attachments(self) -> AttachmentRepository:
        return AttachmentRepository(self._conn)


class SqlUnitOfWork:
    """The unit of work over an engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Looked up once: each lookup resolves the file's real path (a few lstat calls).
        self._writers = writer_queue(engine)
        self._checkpointer = wal_checkpointer(engine)

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[SqlTransaction]:
        """A transaction. On SQLite a writer takes the write lock at BEGIN (IMMEDIATE), after
        waiting its turn among this process's writers (engine.WriterQueue); ``read_only`` units
        use a deferred BEGIN and never block behind writers (WAL)."""
        queue = None if read_only else self._writers
        try:
            if queue is not None:
                queue.acquire()
            try:
                with self.engine.connect() as conn:
                    conn.info["read_only"] = read_only
                    with conn.begin():
                        yield SqlTransaction(conn)
            finally:
                if queue is not None:
                    queue.release()
        except TimeoutError as e:
            raise StoreBusy(str(e)) from e
        except DBAPIError as e:
            # The driver's message only: the statement's parameters (PINs, token hashes) are
            # kept out of every log line and traceback that shows this error.
            e.hide_parameters = True
            raise _translated(e) from e
        if not read_only and self._checkpointer is not None:
            self._checkpointer.committed()


def _translated(e: DBAPIError) -> StoreError:
    text = str(e.orig)
    if isinstance(e, IntegrityError):
        return Duplicate(text)
    if isinstance(e, OperationalError):
        if isinstance(e.orig, sqlite3.OperationalError) and "locked" in text:
            return StoreBusy(text)
        return StoreUnavailable(text)
    return StoreError(text)
