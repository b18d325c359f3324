"""Find a tone in a recording: Goertzel power at one frequency, per short window."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path


def tone_windows(path: Path, hz: float, window_s: float = 0.05, share: float = 0.6) -> list[float]:
    """Start times (seconds) of the windows where ``hz`` holds most of the energy. ``path``:
    a WAV file, or Asterisk's headerless ``.sln`` (8 kHz 16-bit), readable while being written."""
    if path.suffix == ".sln":
        rate, data = 8000, path.read_bytes()
        samples = array("h", data[: len(data) // 2 * 2])
    else:
        with wave.open(str(path)) as w:
            rate = w.getframerate()
            samples = array("h", w.readframes(w.getnframes()))
    n = max(1, int(rate * window_s))
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    found: list[float] = []
    for start in range(0, len(samples) - n, n):
        s1 = s2 = 0.0
        energy = 0.0
        for x in samples[start : start + n]:
            s0 = x + coeff * s1 - s2
            s2, s1 = s1, s0
            energy += x * x
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2  # |X(hz)|^2
        # a pure tone of n samples puts about n/2 * energy into its bin
        if energy > n * 100**2 and power / (energy * n / 2) > share:
            found.append(start / rate)
    return found


def write_tone(path: Path, hz: float, seconds: float = 10.0, rate: int = 48000, level: float = 0.3) -> Path:
    """A 16-bit mono PCM WAV of one steady tone (chromium's fake microphone plays it in a loop)."""
    frames = array(
        "h", (int(level * 32767 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path
