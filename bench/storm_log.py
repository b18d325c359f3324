"""What each caller heard and keyed after its PIN, from the Asterisk instance's own log.

The instance's trace log (logger.conf `trace`, on with asterisk.trace_log: verbose(3) and dtmf)
has every prompt a channel plays, every DTMF end it receives and its entry into the
conference's softmix bridge, each with Asterisk's own millisecond timestamp. AMI events carry
no such clock and say nothing about prompts, so the split of a call's time after the PIN into
prompt audio, the caller's own time and the system's time is read from there
(bench/storm_measure.py has the AMI side).

After the PIN's # (the last key both journeys share):
- prompt audio: every sound the channel plays until it joins, each for its length (cut short
  by the next sound or the join). None of these can be keyed over: the controller's "say your
  name", the tone, "you will now be placed into the conference"; ConfBridge's "you are the only
  person" for the first member, in both storms.
- name window: from the end of the tone to the # that ends the name recording: the caller
  speaking (here: silence until SIPp's scripted #), caller time, not the system's.
- system: the rest (lookups, AGI round trips, ConfBridge setting up and joining).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

_LINE = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] (?P<rest>.*)$")
_PLAYING = re.compile(r"<(?P<chan>PJSIP/[^>]+)> Playing '(?P<file>[^']+)'")
_DTMF = re.compile(r"DTMF end '(?P<digit>.)' received on (?P<chan>PJSIP/\S+?),")
_JOINED = re.compile(r"Channel (?P<chan>PJSIP/\S+) joined 'softmix'")
TONE = "beep"


@dataclass
class ChannelLog:
    plays: list[tuple[float, str]] = field(default_factory=list)  # (start, sound without extension)
    keys: list[tuple[float, str]] = field(default_factory=list)
    joined: float | None = None


def parse(path: Path, channels: set[str]) -> dict[str, ChannelLog]:
    """The plays, keys and join of each of ``channels`` (seconds on the log's clock)."""
    out: dict[str, ChannelLog] = {c: ChannelLog() for c in channels}
    with path.open(errors="replace") as f:
        for line in f:
            m = _LINE.match(line)
            if m is None:
                continue
            rest = m.group("rest")
            if "Playing '" in rest:
                p = _PLAYING.search(rest)
                if p and p.group("chan") in out:
                    out[p.group("chan")].plays.append(
                        (_seconds(m.group("ts")), p.group("file").rsplit(".", 1)[0])
                    )
            elif "DTMF end '" in rest:
                d = _DTMF.search(rest)
                if d and d.group("chan") in out:
                    out[d.group("chan")].keys.append((_seconds(m.group("ts")), d.group("digit")))
            elif "joined 'softmix'" in rest:
                j = _JOINED.search(rest)
                if j and j.group("chan") in out and out[j.group("chan")].joined is None:
                    out[j.group("chan")].joined = _seconds(m.group("ts"))
    return out


def _seconds(ts: str) -> float:
    return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").timestamp()


@dataclass(frozen=True)
class AfterPin:
    total_s: float  # the PIN's # to the join
    prompt_s: float
    name_window_s: float
    system_s: float
    sounds: tuple[str, ...]
    # Parts of system_s: the PIN's # to the first sound (the PIN check), the name's # to the
    # next sound, and the last sound's end to the join (the way into the conference).
    to_first_sound_s: float | None
    name_to_next_sound_s: float | None
    last_sound_to_join_s: float | None


def after_pin(ch: ChannelLog, length: Callable[[str], float], pin_hash: int = 2) -> AfterPin | None:
    """Split the time from the PIN's # (the ``pin_hash``-th # keyed, counting from 1: the
    conference number's is the first) to the join; None if either is missing."""
    hashes = [t for t, d in ch.keys if d == "#"]
    if ch.joined is None or len(hashes) < pin_hash:
        return None
    start, end = hashes[pin_hash - 1], ch.joined
    plays = [(t, s) for t, s in ch.plays if start <= t < end]
    prompt = 0.0
    tone_end: float | None = None
    for i, (t, sound) in enumerate(plays):
        stop = plays[i + 1][0] if i + 1 < len(plays) else end
        heard = min(length(sound), stop - t)
        prompt += heard
        if sound == TONE:
            tone_end = t + heard
    name = 0.0
    name_to_next: float | None = None
    if tone_end is not None:
        ended = next((t for t in hashes if t >= tone_end), None)
        if ended is not None and ended <= end:
            # The recording runs from the tone's end to the # (no sound plays meanwhile).
            name = ended - tone_end
            name_to_next = next((t for t, _ in plays if t >= ended), end) - ended
    total = end - start
    first = plays[0][0] - start if plays else None
    last = end - (plays[-1][0] + min(length(plays[-1][1]), end - plays[-1][0])) if plays else None
    return AfterPin(
        total, prompt, name, total - prompt - name, tuple(s for _, s in plays), first, name_to_next, last
    )
