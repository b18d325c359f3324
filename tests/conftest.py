"""Test tiers by folder: unit (no sockets), protocol (fake peers on real sockets),
asterisk (real Asterisk, Local-channel callers), sip (real Asterisk called by SIPp), web
(pages in chromium), webrtc (a browser's call into Asterisk), cluster (Kamailio in front of
several nodes).

Select one with ``-m``, e.g. ``pytest -m unit``. The asterisk and sip tiers never skip:
if Asterisk cannot be provisioned they fail, loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conference_ivr.logs import configure_logging
from conference_ivr.pbx.process import AsteriskProcess
from tests.support.system import System, isolated_settings, running_asterisk, running_system

TIERS = ("unit", "protocol", "store", "asterisk", "sip", "sms", "web", "webrtc", "cluster")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("warning")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dialconf")


@pytest.fixture(scope="session")
async def asterisk(session_dir: Path) -> AsyncIterator[AsteriskProcess]:
    async with running_asterisk(isolated_settings(session_dir)) as proc:
        yield proc


@pytest.fixture(scope="session")
async def system(asterisk: AsteriskProcess) -> AsyncIterator[System]:
    async with running_system(asterisk.instance.settings, asterisk) as sysm:
        yield sysm
