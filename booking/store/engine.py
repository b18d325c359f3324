"""Engines: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

BUSY_TIMEOUT_S = 30.0


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is off; we emit BEGIN ourselves (see below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # One writer at a time, decided when the transaction starts: no upgrade deadlocks.
            conn.exec_driver_sql("BEGIN" if conn.info.get("read_only") else "BEGIN IMMEDIATE")

        return engine
    # READ COMMITTED whatever the server's default: each statement after the capacity lock
    # (pg_advisory_xact_lock) must see what the previous holder committed. Under REPEATABLE
    # READ or SERIALIZABLE the snapshot is taken when the lock is requested, before it is granted,
    # so writers would overbook or fail with serialization errors.
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


class WriterQueue:
    """SQLite writers of one database file in this process, first come first served.

    SQLite has one writer at a time; a writer that finds the lock taken sleeps in the busy
    handler for growing intervals (up to 100 ms) and polls again, while the writer that just
    committed takes the lock straight back. Under contention some writers starve until their
    busy timeout expires ("database is locked"). Queued here, each waits its turn and is handed
    the lock directly; the busy handler only arbitrates between processes.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float = BUSY_TIMEOUT_S) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return
        with self._mutex:
            if turn.is_set():  # handed over just as the wait timed out
                return
            self._waiting.remove(turn)
        raise TimeoutError(f"database is locked: no turn to write within {timeout:.0f} s")

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # stays held: handed to the next in line
            else:
                self._held = False


_queues: dict[str, WriterQueue] = {}
_queues_mutex = threading.Lock()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue of the SQLite file behind ``engine``, shared by every engine on that file."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    key = os.path.realpath(database)
    with _queues_mutex:
        return _queues.setdefault(key, WriterQueue())
