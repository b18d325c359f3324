"""A PostgreSQL server of our own: the cluster's shared store for `dialconf cluster up`
(kept in a directory, issue 21), and a throwaway one for a test session or a benchmark run.

``running_postgres()`` finds the server binaries under /usr/lib/postgresql/*/bin (installed by
``scripts/system-deps.sh test``), runs ``initdb`` into a fresh temporary directory owned by the
``postgres`` user (initdb refuses to run as root, so as root every server command runs through
``runuser -u postgres --``), starts the server listening on 127.0.0.1 only, on a free port, with
its unix socket inside that directory and fsync off, creates the database ``dialconf`` and yields
its SQLAlchemy URL. Loopback connections are trusted (nothing else can connect). At the end the
cluster is stopped with ``pg_ctl stop -m immediate``, the postmaster is checked gone, and the
directory is removed. Given a directory (``base``), the cluster is made there once, kept
between runs, and only stopped at the end.

It never skips: if PostgreSQL is missing or cannot start, it raises with the server's log.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATABASE = "dialconf"
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}


class PostgresError(RuntimeError):
    pass


@dataclass(frozen=True)
class Postgres:
    url: str  # postgresql+psycopg://postgres@127.0.0.1:PORT/dialconf
    port: int
    bindir: Path
    datadir: Path
    version: str  # e.g. "15.18"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database in this cluster; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        _run(
            [
                *_as_owner(),
                str(self.bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ]
        )
        return self.url_for(name)


def find_bindir() -> Path:
    """The newest installed server's bin directory."""
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p, "initdb").exists()]

    def major(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.name))

    if not found:
        raise PostgresError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "run `scripts/system-deps.sh test` as root (it installs the postgresql package)"
        )
    return max(found, key=major)


def _as_owner() -> list[str]:
    """Run server commands as ``postgres`` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], timeout: float = 60) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise PostgresError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purposes; it belongs to whoever reaps it.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        return int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _start(bindir: Path, base: Path, port: int) -> None:
    datadir, log = base / "data", base / "server.log"
    options = f"-p {port} -k {base}"
    _run(
        [
            *_as_owner(),
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        timeout=90,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _until_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def running_postgres(base: Path | None = None, port: int = 0) -> Iterator[Postgres]:
    """A running server: in a fresh temporary directory (removed at the end), or in ``base``
    (made once, kept), on ``port`` (0: a free one)."""
    bindir = find_bindir()
    banner = _run([str(bindir / "postgres"), "--version"])  # postgres (PostgreSQL) 15.18 (Debian ...)
    version = m.group(0) if (m := re.search(r"\d+(\.\d+)+", banner)) else banner.strip()
    keep = base is not None
    base = base.resolve() if base is not None else Path(tempfile.mkdtemp(prefix="dialconf-pg-"))
    base.mkdir(parents=True, exist_ok=True)
    datadir = base / "data"
    try:
        fresh = not (datadir / "PG_VERSION").exists()
        if fresh:
            _initdb(bindir, base, datadir)
        else:
            _stop(bindir, datadir)  # a server left running by a killed run
        # A free port can be taken between the probe and the bind: try a few.
        for attempt in range(3):
            chosen = port or _free_port()
            try:
                _start(bindir, base, chosen)
                break
            except PostgresError as exc:
                log = base / "server.log"
                text = log.read_text() if log.exists() else ""
                if port or attempt == 2 or "could not bind" not in text:
                    raise PostgresError(f"{exc}\n--- server log ---\n{text}") from None
        pg = Postgres(
            f"postgresql+psycopg://postgres@127.0.0.1:{chosen}/{DATABASE}", chosen, bindir, datadir, version
        )
        if fresh:
            pg.create_database(DATABASE)
        yield pg
    finally:
        _stop(bindir, datadir)
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


def _initdb(bindir: Path, base: Path, datadir: Path) -> None:
    """A new database cluster in ``datadir``, owned by ``postgres`` when we are root."""
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        reach = subprocess.run([*_as_owner(), "test", "-w", str(base)], check=False, timeout=10)
        if reach.returncode != 0:
            raise PostgresError(
                f"the postgres user cannot reach {base}: let it through the directories above "
                "(chmod o+x), or set DIALCONF_DATABASE_URL to a PostgreSQL database"
            )
    _run(
        [
            *_as_owner(),
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        timeout=120,
    )
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write("\n# dialconf: development and tests only (fsync off)\n")
        conf.writelines(f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items())


def _stop(bindir: Path, datadir: Path) -> None:
    pid = _postmaster_pid(datadir)
    if pid is None:
        return
    with contextlib.suppress(PostgresError, subprocess.TimeoutExpired):
        _run([*_as_owner(), str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"])
    _until_gone(pid, 10)  # still up after 10 s: killed below
    if _alive(pid):  # our own postmaster, by its pid: it takes its children with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
