"""A caller at human pace through the real IVR (issue 23): a Local channel driven over AMI that
reacts to what the IVR does, as a person on the phone would.

The ``;2`` half runs the access dialplan (the controller's FastAGI journey); the ``;1`` half is
the caller's mouth and keypad: keys are AMI ``PlayDTMF`` on it, the spoken name a Playtones
burst it starts on a redirect. Every AGI command the IVR runs on the caller's channel arrives
as ``AGIExecStart``/``AGIExecEnd``; the caller answers each digit read:

- **listening**: it waits until the prompt has played to its end (the prompt's files' own
  lengths), pauses, then keys at ``key_s`` a key;
- **typing ahead**: it keys as soon as the read starts, over the prompt (Read() stops the
  prompt at the first key).

The conference number's prompt asks for the number and the PIN in one go, so the caller keys
both on (``123456#654321#``): the PIN's read starts while it keys and its prompt (a second's
pause first) is never heard. A read that answers no phrase of ``keys`` is such a continuation.

Keys go over the caller's own AMI connection (``keypad``): Asterisk runs one manager session's
actions one after another and a PlayDTMF holds it for the key's length, so callers sharing one
would wait for each other's keys (about 2 s per prompt with 25 callers keying at once).

What the call's time went on is kept per step (``Step``): the prompt audio heard, the caller's
own keying, the name recording, and the rest (the system: lookups, AGI round trips, joining).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AgiExecStart, AmiEvent, ConfbridgeJoin
from conference_ivr.pbx import names

VOICE_CONTEXT = "dialconf-journey-voice"  # appended to the instance's dialplan by the bench
KEY_DWELL_MS = 100  # how long a key is held (PlayDTMF Duration)


def voice_dialplan(name_s: float) -> str:
    """The caller saying its name: a tone as long as the name, then silence (frames still flow,
    so the recording's silence detection ends it as it would a person's)."""
    return (
        "\n; --- added by bench/journey_bench.py: a caller saying its name ---\n"
        f"[{VOICE_CONTEXT}]\n"
        f"exten => s,1,Playtones(440/{int(name_s * 1000)},0/600000)\n"
        " same => n,Wait(3600)\n"
    )


@dataclass(frozen=True)
class Pace:
    key_s: float = 0.6  # between keys
    pause_s: float = 0.5  # before answering a prompt heard to its end
    name_s: float = 1.5  # the spoken name
    type_ahead: bool = False


@dataclass
class Step:
    """One AGI command the IVR ran on the call, and how its time splits."""

    command: str
    started: float
    ended: float | None = None
    prompt_s: float = 0.0  # audio the caller heard (cut at its first key)
    caller_s: float = 0.0  # the caller keying (after the prompt), or speaking its name
    recording: bool = False


@dataclass
class Journey:
    """One call, from its answer to its ConfbridgeJoin."""

    kind: str
    language: str
    answered: float | None = None
    joined: float | None = None
    steps: list[Step] = field(default_factory=list)
    failed: str = ""

    def split(self) -> dict[str, float] | None:
        """Seconds from answer to join, and what they went on; None if it never joined."""
        if self.answered is None or self.joined is None:
            return None
        total = self.joined - self.answered
        prompt = sum(s.prompt_s for s in self.steps if not s.recording)
        keying = sum(s.caller_s for s in self.steps if not s.recording)
        recording = sum((s.ended or self.joined) - s.started for s in self.steps if s.recording)
        return {
            "total_s": round(total, 2),
            "prompt_s": round(prompt, 2),
            "keying_s": round(keying, 2),
            "recording_s": round(recording, 2),
            "system_s": round(max(total - prompt - keying - recording, 0.0), 2),
        }


_READ = re.compile(r"^EXEC Read \S+?,(?P<prompts>[^,]*),")
_STREAM = re.compile(r"^STREAM FILE (?P<file>\S+)")


class HumanCaller:
    """One call; ``run`` returns its Journey when it joined, gave up or timed out."""

    def __init__(
        self,
        ami: AmiClient,
        keypad: AmiClient,
        access: str,
        caller_id: str,
        keys: dict[str, str],  # the first prompt phrase of a read -> the keys that answer it
        kind: str,
        language: str,
        pace: Pace,
        sound_s: Callable[[str], float],  # a prompt file (as the IVR names it) -> its seconds
    ) -> None:
        self.ami, self.keypad, self.access, self.caller_id, self.keys = ami, keypad, access, caller_id, keys
        self.pace, self.sound_s = pace, sound_s
        self.uniqueid = str(uuid.uuid4())
        self.journey = Journey(kind, language)
        self.channel2 = ""
        self._events: asyncio.Queue[tuple[float, AmiEvent]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: AmiEvent) -> None:
        if event.get("Uniqueid") == self.uniqueid:
            self._events.put_nowait((time.monotonic(), event))

    async def run(self, timeout_s: float) -> Journey:
        await self.ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{self.access}@{names.CONTEXT_ACCESS}",
                "Context": names.CONTEXT_DRIVE,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": str(uuid.uuid4()),
                "OtherChannelId": self.uniqueid,
                "CallerID": f'"Journey caller" <{self.caller_id}>',
            }
        )
        try:
            async with asyncio.timeout(timeout_s):
                while self.journey.joined is None and not self.journey.failed:
                    at, event = await self._events.get()
                    self._handle(at, event)
        except TimeoutError:
            self.journey.failed = "timeout"
        finally:
            for task in self._tasks:
                task.cancel()
        return self.journey

    async def hang_up(self) -> None:
        if self.channel2:
            await self.ami.action({"Action": "Hangup", "Channel": self.channel2})

    def _handle(self, at: float, event: AmiEvent) -> None:
        j = self.journey
        if isinstance(event, ConfbridgeJoin):
            j.joined = at
        elif isinstance(event, AgiExecStart):
            self.channel2 = event.channel
            self._started(at, event.command)
        elif event.name == "AGIExecEnd" and j.steps and j.steps[-1].ended is None:
            j.steps[-1].ended = at
        elif event.name == "Hangup":
            j.failed = j.failed or "hung up before joining"

    def _started(self, at: float, command: str) -> None:
        j = self.journey
        if command.startswith("ANSWER"):
            j.answered = at
            return
        step = Step(command, at)
        j.steps.append(step)
        read = _READ.match(command)
        stream = _STREAM.match(command)
        if read:
            prompts = read.group("prompts").split("&")
            said = {p.rsplit("/", 1)[-1] for p in prompts}
            keys = next((k for phrase, k in self.keys.items() if phrase in said), None)
            if keys is None:
                if not self._tasks:  # not keying on into it: the caller would not know what to do
                    j.failed = f"unexpected prompt {prompts[-1]}"
                return
            self._spawn(self._answer(step, sum(self.sound_s(p) for p in prompts), keys))
        elif stream:
            step.prompt_s = self.sound_s(stream.group("file"))
        elif command.startswith("RECORD FILE"):
            step.recording = True
            self._spawn(self._say_name())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, step: Step, prompt_s: float, keys: str) -> None:
        p = self.pace
        wait = p.key_s if p.type_ahead else prompt_s + p.pause_s
        await asyncio.sleep(wait)
        step.prompt_s = min(prompt_s, wait)
        drive = self.channel2[:-1] + "1"
        first = time.monotonic()
        for i, digit in enumerate(keys):
            # Keys at the caller's pace from its first, whatever an AMI round trip takes.
            await asyncio.sleep(max(0.0, first + i * p.key_s - time.monotonic()))
            await self.keypad.action(
                {"Action": "PlayDTMF", "Channel": drive, "Digit": digit, "Duration": str(KEY_DWELL_MS)}
            )
        # The caller's own time: from where the prompt stopped to its last key's end, as it
        # happened (each PlayDTMF returns once the key was played).
        step.caller_s = time.monotonic() - (step.started + step.prompt_s)

    async def _say_name(self) -> None:
        await asyncio.sleep(self.pace.pause_s)  # the tone, then the caller starts speaking
        drive = self.channel2[:-1] + "1"
        await self.ami.action(
            {"Action": "Redirect", "Channel": drive, "Context": VOICE_CONTEXT, "Exten": "s", "Priority": "1"}
        )
