"""The webrtc tier: a real Asterisk whose browsers' media goes over a private address the
session makes (tests/support/webrtc_address.py), the phone bundle built as `make` builds it."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from conference_ivr.pbx.process import AsteriskProcess
from tests.support.system import System, isolated_settings, running_asterisk, running_system
from tests.support.webrtc_address import MediaAddress, media_address

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "booking" / "web" / "static" / "dialconf-phone.js"
SOURCES = [ROOT / "booking" / "web" / "js" / name for name in ("dialconf-phone.js", "package.json")]


@pytest.fixture(scope="session")
def phone_bundle() -> Path:
    """The bundle `make provision` builds (scripts/build-phone.sh), rebuilt when older than its sources."""
    if not BUNDLE.is_file() or BUNDLE.stat().st_mtime < max(p.stat().st_mtime for p in SOURCES):
        subprocess.run([str(ROOT / "scripts" / "build-phone.sh")], check=True, timeout=300)
    return BUNDLE


@pytest.fixture(scope="session")
def web_media() -> Iterator[MediaAddress]:
    with media_address() as made:
        yield made


@pytest.fixture(scope="session")
async def web_asterisk(
    tmp_path_factory: pytest.TempPathFactory, web_media: MediaAddress, phone_bundle: Path
) -> AsyncIterator[AsteriskProcess]:
    """An Asterisk of this tier's own (a worker may also run the other tiers' `asterisk`)."""
    settings = isolated_settings(tmp_path_factory.mktemp("webrtc"), name="w")
    settings.webrtc.media_address = web_media.address
    async with running_asterisk(settings) as proc:
        yield proc


@pytest.fixture(scope="session")
async def web_system(web_asterisk: AsteriskProcess) -> AsyncIterator[System]:
    async with running_system(web_asterisk.instance.settings, web_asterisk) as sysm:
        yield sysm
