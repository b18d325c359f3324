"""Install the prompts of every catalogue into Asterisk's sounds directory (setup time).

Phrases marked ``stock:NAME`` are copied from Asterisk's own recordings of that language,
``tone:NAME`` from the English set (tones have no language), and every other phrase is
spoken by espeak-ng and converted by sox to 8 kHz mono WAV. Files land in
``<sounds>/<lang>/dialconf/``; a hash of the catalogue skips work already done.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import structlog

from conference_ivr.errors import ProvisioningError
from conference_ivr.ivr.catalogue import (
    GENERATED_NUMBERS,
    LANGUAGES,
    SOUND_PREFIX,
    Catalogue,
    catalogue,
    catalogue_text,
    is_template,
    split_template,
)
from conference_ivr.pbx.names import SOUNDS_DIR
from conference_ivr.pbx.provision import AsteriskInstall

log = structlog.get_logger(__name__)

_GENERATOR_VERSION = "4"
_STOCK_EXTS = (".gsm", ".wav", ".ulaw", ".alaw", ".sln")


def _stock_file(base: Path, name: str) -> Path | None:
    for ext in _STOCK_EXTS:
        candidate = base / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    return None


# espeak-ng pads each phrase with ~0.17 s of silence at both ends: trimmed, with a short tail
# kept so phrases played one after another still breathe (issue 23: ~0.3 s per prompt).
_TRIM = ["silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse", "pad", "0", "0.12"]


def speak(voice: str, text: str, target: Path) -> None:
    """espeak-ng text -> 8 kHz mono 16-bit WAV (what Asterisk plays without transcoding)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        subprocess.run(["espeak-ng", "-v", voice, "-w", raw.name, text], check=True, capture_output=True)
        subprocess.run(
            ["sox", raw.name, "-r", "8000", "-c", "1", "-b", "16", str(target), *_TRIM, "norm", "-3"],
            check=True,
            capture_output=True,
        )


# Sounds made by sox, not spoken. The warning tone: three 1400 Hz beeps (a frequency the
# join/leave tones and speech rarely hold for long, so tests can find it in what members hear).
WARNING_TONE_HZ = 1400
# The pause: one second of silence before a prompt a caller who keys on never hears (the PIN's,
# after the conference number: both may be keyed in one go).
_SYNTH = {
    "beeps": ["synth", "0.25", "sine", str(WARNING_TONE_HZ), "gain", "-4", "pad", "0", "0.2", "repeat", "2"],
    "pause": ["trim", "0", "1"],
}


def synth(name: str, target: Path) -> None:
    if name not in _SYNTH:
        raise ProvisioningError(f"unknown synth sound {name!r}")
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(target), *_SYNTH[name]],
                   check=True, capture_output=True)  # fmt: skip


def _jobs(cat: Catalogue, target: Path, stock: Path | None, tones: Path) -> list[tuple[str, str, Path]]:
    """(kind, source, destination) for every sound of one language."""
    jobs: list[tuple[str, str, Path]] = []
    for phrase, value in cat.phrases.items():
        if value.startswith("stock:"):
            if stock is None:
                raise ProvisioningError(
                    f"{cat.language}: {phrase} is stock but the language has no stock_dir"
                )
            jobs.append(("copy", str(stock / value.removeprefix("stock:")), target / phrase))
        elif value.startswith("tone:"):
            jobs.append(("copy", str(tones / value.removeprefix("tone:")), target / phrase))
        elif value.startswith("synth:"):
            jobs.append(("synth", value.removeprefix("synth:"), target / f"{phrase}.wav"))
        elif is_template(value):
            before, after = split_template(value)
            if before:
                jobs.append(("speak", before, target / f"{phrase}_a.wav"))
            if after:
                jobs.append(("speak", after, target / f"{phrase}_b.wav"))
        else:
            jobs.append(("speak", value, target / f"{phrase}.wav"))
    if not cat.stock_numbers:
        jobs.extend(("speak", str(n), target / "num" / f"{n}.wav") for n in GENERATED_NUMBERS)
    return jobs


def _run_job(voice: str, job: tuple[str, str, Path]) -> None:
    kind, source, dest = job
    dest.parent.mkdir(parents=True, exist_ok=True)
    if kind == "speak":
        speak(voice, source, dest)
        return
    if kind == "synth":
        synth(source, dest)
        return
    found = _stock_file(Path(source).parent, Path(source).name)
    if found is None:
        raise ProvisioningError(f"stock sound missing: {source}.*")
    shutil.copyfile(found, dest.with_suffix(found.suffix))


def install_sounds(install: AsteriskInstall, sounds_dir: PurePosixPath = SOUNDS_DIR) -> list[str]:
    """Make every catalogue's prompts playable; returns the languages (re)generated."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise ProvisioningError(f"{tool} is missing: apt-get install espeak-ng sox")
    en_stock = catalogue("en").stock_dir
    assert en_stock
    tones = install.resolve(sounds_dir / en_stock)
    done: list[str] = []
    for lang in LANGUAGES:
        cat = catalogue(lang)
        lang_dir = install.resolve(sounds_dir / lang)
        target = lang_dir / SOUND_PREFIX
        digest = hashlib.sha256((_GENERATOR_VERSION + catalogue_text(lang)).encode()).hexdigest()
        marker = target / ".catalogue"
        if marker.is_file() and marker.read_text() == digest:
            continue
        stock = install.resolve(sounds_dir / cat.stock_dir) if cat.stock_dir else None
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        jobs = _jobs(cat, target, stock, tones)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(lambda j, v=cat.voice: _run_job(v, j), jobs))
        if (
            cat.stock_numbers
            and cat.stock_dir
            and cat.stock_dir != lang
            and not (lang_dir / "digits").exists()
        ):
            # SAY NUMBER looks in <sounds>/<lang>/digits: point it at the stock set.
            (lang_dir / "digits").symlink_to(Path("..") / cat.stock_dir / "digits")
        marker.write_text(digest)
        done.append(lang)
        log.info("sounds.installed", language=lang, files=len(jobs))
    return done


def sound_file(
    install: AsteriskInstall, language: str, sound: str, sounds_dir: PurePosixPath = SOUNDS_DIR
) -> Path | None:
    """The file Asterisk would play for ``sound`` in ``language`` (no English fallback)."""
    return _stock_file(install.resolve(sounds_dir / language), sound)
