"""A unit of work: one transaction, committed on success, rolled back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from booking.store.engine import wal_checkpointer, writer_queue
from booking.store.reservations import Repository


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Looked up once: each lookup resolves the file's real path (a few lstat calls).
        self._writers = writer_queue(engine)
        self._checkpointer = wal_checkpointer(engine)

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[Repository]:
        """A transaction. On SQLite a writer takes the write lock at BEGIN (IMMEDIATE), after
        waiting its turn among this process's writers (engine.WriterQueue); ``read_only`` units
        use a deferred BEGIN and never block behind writers (WAL)."""
        queue = None if read_only else self._writers
        if queue is not None:
            queue.acquire()
        try:
            with self.engine.connect() as conn:
                conn.info["read_only"] = read_only
                with conn.begin():
                    yield Repository(conn)
        finally:
            if queue is not None:
                queue.release()
        if not read_only and self._checkpointer is not None:
            self._checkpointer.committed()
