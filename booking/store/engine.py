"""Engines: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

BUSY_TIMEOUT_S = 30.0
WAL_BOUND_PAGES = 8000


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
            # WalCheckpointer moves the WAL into the file in its own thread; this is the bound
            # should it fall behind (SQLite's default, 1000 pages, would checkpoint inside a
            # COMMIT every few hundred bookings: a 5-10 ms stall for that request).
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_BOUND_PAGES}")
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
    key = _sqlite_file(engine)
    if key is None:
        return None
    with _queues_mutex:
        return _queues.setdefault(key, WriterQueue())


def _sqlite_file(engine: Engine) -> str | None:
    """The real path of the SQLite file behind ``engine``; None for PostgreSQL or in memory."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return os.path.realpath(database)


class WalCheckpointer:
    """Checkpoints one SQLite file's WAL in a background thread, every ``every`` commits.

    A PASSIVE checkpoint never blocks readers or writers; the next writer then restarts the
    WAL from its beginning, so it stays small. The thread ends after ``idle_s`` without commits
    (tests open many short-lived files) and starts again with the next commits.
    """

    def __init__(self, path: str, every: int = 50, idle_s: float = 30.0) -> None:
        self._path = path
        self._every = every
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._commits = 0
        self._thread: threading.Thread | None = None
        self.checkpoints = 0
        # SQLite's answer to the last one: (busy, frames in the WAL, frames moved to the file)
        self.last: tuple[int, int, int] | None = None

    def committed(self) -> None:
        with self._lock:
            self._commits += 1
            if self._commits < self._every:
                return
            self._commits = 0
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            while True:
                if not self._wake.wait(self._idle_s):
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                self._wake.clear()
                try:
                    busy, frames, moved = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.last = (busy, frames, moved)
                    self.checkpoints += 1
                except sqlite3.Error:
                    pass  # busy or gone: the next round (or the WAL bound) catches up
        finally:
            conn.close()


_checkpointers: dict[str, WalCheckpointer] = {}


def wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The background checkpointer of the SQLite file behind ``engine`` (one per file)."""
    key = _sqlite_file(engine)
    if key is None:
        return None
    with _queues_mutex:
        return _checkpointers.setdefault(key, WalCheckpointer(key))
