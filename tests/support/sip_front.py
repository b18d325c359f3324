"""The project's Kamailio (conference_ivr/cluster/kamailio.py) started in front of some nodes
for one test, on a free loopback port, and always stopped after it.

Its run directory is short (a unix socket's path has at most 107 bytes, and pytest's own
directories can be longer); its log is copied into the test's directory when it stops.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from conference_ivr.cluster.kamailio import Kamailio
from conference_ivr.cluster_settings import KamailioSettings
from tests.support.ports import free_ports

# Quick to notice a node going and coming: a probe a second. Two unanswered ones make a node
# inactive, so one late answer on a loaded machine does not take a live node out.
FAST = {"ping_interval_s": 1, "probing_threshold": 2}


@asynccontextmanager
async def running_front(nodes: Sequence[str], workdir: Path, **settings: int) -> AsyncIterator[Kamailio]:
    """Kamailio on 127.0.0.1 and a free UDP port, dispatching to ``nodes`` (sip URIs)."""
    (port,) = free_ports(1, socket.SOCK_DGRAM)
    front = Kamailio(KamailioSettings(port=port, **(FAST | settings)))
    run_dir = Path(tempfile.mkdtemp(prefix="dialconf-kam-"))
    try:
        front.render(nodes, run_dir)
        await asyncio.to_thread(front.start)
        yield front
    finally:
        await asyncio.to_thread(front.stop)
        if front.run_dir is not None and front.log_file.exists():
            shutil.copy(front.log_file, workdir / "kamailio.log")
        shutil.rmtree(run_dir, ignore_errors=True)


def address(front: Kamailio) -> str:
    """Where a caller sends its INVITE: host:port."""
    return f"{front.settings.bind_address}:{front.settings.port}"
