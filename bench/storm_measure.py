"""Per-call timelines of the join storm from the bench's own AMI connection, and their figures.

Every SIP caller is one PJSIP channel. Its moments, stamped when the event reaches this process
(time.monotonic; the same clock and the same path for the controller and the floor):

- arrival: Newchannel (Asterisk has the INVITE);
- answer: Newstate Up (Asterisk answers: the 200 OK, which also starts the SIPp caller's script);
- keys: DTMFEnd with Direction Received (Asterisk has read the key);
- joined: ConfbridgeJoin of that channel (announcer Local channels are not callers);
- hangup: Hangup.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.storm_log import AfterPin
from conference_ivr.ami.events import AmiEvent


@dataclass
class CallTrace:
    uniqueid: str
    channel: str
    service: str  # the number dialled
    caller: str
    arrival: float
    answer: float | None = None
    keys: list[tuple[float, str]] = field(default_factory=list)
    joined: float | None = None
    hangup: float | None = None
    cause: str = ""


class Tracer:
    """An AMI event handler that keeps a CallTrace per PJSIP channel."""

    def __init__(self) -> None:
        self.calls: dict[str, CallTrace] = {}
        self.idle = asyncio.Event()  # set while no traced call is up
        self.idle.set()
        self.seen: Counter[str] = Counter()  # every event on this connection (call, dtmf), by name

    def __call__(self, event: AmiEvent) -> None:
        now = time.monotonic()
        self.seen[event.name] += 1
        channel = event.get("Channel")
        if not channel.startswith("PJSIP/"):
            return
        uid = event.get("Uniqueid")
        if event.name == "Newchannel":
            self.calls[uid] = CallTrace(uid, channel, event.get("Exten"), event.get("CallerIDNum"), now)
            self.idle.clear()
            return
        call = self.calls.get(uid)
        if call is None:
            return
        if event.name == "Newstate" and event.get("ChannelStateDesc") == "Up" and call.answer is None:
            call.answer = now
        elif event.name == "DTMFEnd" and event.get("Direction") == "Received":
            call.keys.append((now, event.get("Digit")))
        elif event.name == "ConfbridgeJoin" and call.joined is None:
            call.joined = now
        elif event.name == "Hangup":
            call.hangup = now
            call.cause = event.get("Cause-txt") or event.get("Cause")
            if not self.open_calls():
                self.idle.set()

    def of(self, service: str, since: float) -> list[CallTrace]:
        return [c for c in self.calls.values() if c.service == service and c.arrival >= since]

    def open_calls(self) -> int:
        return sum(1 for c in self.calls.values() if c.hangup is None)


def percentiles(values: list[float], scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
    """n, min, p50, p90, p99, max and mean (nearest rank), each times ``scale``."""
    if not values:
        return {"n": 0}
    xs = sorted(values)

    def rank(p: float) -> float:
        return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)] * scale

    return {
        "n": len(xs),
        "min": round(xs[0] * scale, digits),
        "p50": round(rank(50), digits),
        "p90": round(rank(90), digits),
        "p99": round(rank(99), digits),
        "max": round(xs[-1] * scale, digits),
        "mean": round(sum(xs) / len(xs) * scale, digits),
    }


def summarise(calls: list[CallTrace], expected: int, after: dict[str, AfterPin]) -> dict[str, Any]:
    """Joined / failed counts and the time distributions of one storm; ``after`` is each
    channel's time after its PIN from the Asterisk log (bench/storm_log.py)."""
    joined = [c for c in calls if c.joined is not None]
    answered = [c for c in calls if c.answer is not None]
    a2j: list[float] = []
    minus_prompt: list[float] = []
    for c in joined:
        if c.answer is None or c.joined is None:
            continue
        a2j.append(c.joined - c.answer)
        split = after.get(c.channel)
        if split is not None:
            minus_prompt.append(c.joined - c.answer - split.prompt_s - split.name_window_s)
    splits = [after[c.channel] for c in joined if c.channel in after]
    causes: dict[str, int] = {}
    for c in calls:
        if c.joined is None:
            causes[c.cause or "still up"] = causes.get(c.cause or "still up", 0) + 1
    sounds: dict[str, int] = {}
    for sp in splits:
        key = " + ".join(sp.sounds) or "none"
        sounds[key] = sounds.get(key, 0) + 1
    return {
        "expected": expected,
        "arrived": len(calls),
        "answered": len(answered),
        "joined": len(joined),
        "failed": expected - len(joined),
        "not_joined_causes": causes,
        "keys_per_joined_call": percentiles(
            [float(len([k for k in c.keys if c.joined is not None and k[0] <= c.joined])) for c in joined],
            digits=1,
        ),
        "arrival_to_answer_ms": percentiles([c.answer - c.arrival for c in answered if c.answer], 1000, 1),
        "answer_to_joined_s": percentiles(a2j),
        # The figure: answer-to-joined minus what the caller hears and cannot key over
        # after its PIN, and minus its own name-recording time. What remains is the caller's
        # keying up to the PIN (the same script in both storms) plus the system's time.
        "answer_to_joined_minus_prompt_s": percentiles(minus_prompt),
        "calls_with_log_split": len(splits),
        "after_pin_s": percentiles([sp.total_s for sp in splits]),
        "prompt_after_pin_s": percentiles([sp.prompt_s for sp in splits]),
        "name_window_s": percentiles([sp.name_window_s for sp in splits]),
        # What the system itself takes after the PIN's #: no caller time, no prompt audio.
        "system_after_pin_ms": percentiles([sp.system_s for sp in splits], 1000, 1),
        "system_parts_ms": {
            "pin_to_first_sound": percentiles(
                [sp.to_first_sound_s for sp in splits if sp.to_first_sound_s is not None], 1000, 1
            ),
            "name_hash_to_next_sound": percentiles(
                [sp.name_to_next_sound_s for sp in splits if sp.name_to_next_sound_s is not None], 1000, 1
            ),
            "last_sound_to_join": percentiles(
                [sp.last_sound_to_join_s for sp in splits if sp.last_sound_to_join_s is not None], 1000, 1
            ),
        },
        "sounds_after_pin": dict(sorted(sounds.items(), key=lambda kv: -kv[1])[:4]),
    }
