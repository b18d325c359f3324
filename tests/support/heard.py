"""What a Local-channel caller heard (its ``record=`` file) and the prompts to find in it."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path, PurePosixPath

from conference_ivr.pbx import names
from tests.support.poll import until
from tests.support.system import System


async def heard_when_closed(system: System, inner: PurePosixPath) -> Path:
    """What a caller recorded with ``record=`` heard, once MixMonitor closed the file (its
    header's sizes are set then, just after the hangup)."""
    host = Path(system.asterisk.instance.install.host_path(inner.with_name(inner.name + "-heard.wav")))

    def written() -> Path | None:
        try:
            with wave.open(str(host)) as w:
                return host if w.getnframes() > 0 else None
        except (FileNotFoundError, EOFError, wave.Error):
            return None

    return await until(written, 10, f"{host} written")


def decoded(path: Path) -> bytes:
    """A sound file as Asterisk plays it: 8 kHz 16-bit mono, so what a caller heard of it is
    found in it byte for byte (GSM decodes the same in sox and in Asterisk)."""
    args = ["-t", "gsm", "-r", "8000", "-c", "1"] if path.suffix == ".gsm" else []
    out = subprocess.run(
        ["sox", *args, str(path), "-t", "raw", "-e", "signed", "-b", "16", "-r", "8000", "-c", "1", "-"],
        check=True,
        capture_output=True,
    )
    return out.stdout


def hold_music(system: System) -> list[bytes]:
    """Asterisk's own hold music (asterisk-moh-opsound-gsm in the root), decoded."""
    moh = system.asterisk.instance.install.host_path(PurePosixPath("/usr/share/asterisk/moh"))
    files = sorted(Path(moh).glob("*.gsm"))
    assert files, f"no hold music installed in {moh}"
    return [decoded(f) for f in files]


def prompt(system: System, phrase: str, language: str = "en") -> bytes:
    """One catalogue phrase as installed for Asterisk (sounds.install_sounds), decoded."""
    sounds = system.asterisk.instance.install.resolve(names.SOUNDS_DIR / language / "dialconf")
    (path,) = [p for p in sounds.glob(f"{phrase}.*")]
    return decoded(path)


def heard_at(heard: bytes, sound: bytes) -> float | None:
    """Where (seconds into ``heard``) the middle of ``sound`` was heard, if it was."""
    middle = len(sound) // 2 // 2 * 2
    at = heard.find(sound[middle : middle + 1600])
    return None if at < 0 else at / 16000
