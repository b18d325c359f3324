"""Chromium for the browser's calls (issue 20): the web tests' selenium chromium
(tests/support/browser.py) with a fake microphone that plays a WAV file and no prompts.

- ``--disable-features=WebRtcHideLocalIpsWithMdns``: otherwise its host candidates are
  ``.local`` names, which Asterisk cannot resolve;
- ``--use-fake-ui-for-media-stream``: the microphone is allowed without asking;
- ``--use-fake-device-for-media-stream`` + ``--use-file-for-fake-audio-capture``: the
  microphone plays ``wav`` (16-bit PCM) in a loop;
- ``--autoplay-policy=no-user-gesture-required``: the far end is heard without a click.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.browser import Browser, async_browser


def media_flags(wav: Path) -> tuple[str, ...]:
    return (
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    )


@asynccontextmanager
async def media_chromium(base_url: str, wav: Path) -> AsyncIterator[Browser]:
    """A headless chromium whose microphone says ``wav``, opened from a thread (selenium blocks)."""
    async with async_browser(base_url, media_flags(wav)) as b:
        yield b
