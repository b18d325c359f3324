"""A caller made of a Local channel: ``;2`` runs the access dialplan, ``;1`` keys DTMF.

The caller waits for the IVR to start reading digits (AGIExecStart of ``EXEC Read`` with
the prompt) before keying them, so tests never depend on sleeps or prompt lengths.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AgiExecStart, AmiEvent
from conference_ivr.pbx import names
from tests.support.events import EventLog


class LocalCaller:
    def __init__(
        self,
        ami: AmiClient,
        log: EventLog,
        access: str,
        caller_id: str = "+420221000111",
        voice: str = "",
        record: str = "",
    ) -> None:
        self.ami = ami
        self.log = log
        self.access = access
        self.caller_id = caller_id
        self.drive_id = str(uuid.uuid4())  # the ;1 half
        self.uniqueid = str(uuid.uuid4())  # the ;2 half: the caller as Asterisk's IVR sees it
        self.voice = voice  # a Playtones spec: the caller's "voice" (names get recorded)
        self.record = record  # a path (as Asterisk sees it, no extension): record what we hear
        self.channel2 = ""
        self._consumed: dict[str, int] = {}  # prompts of each phrase already answered

    async def dial(self) -> None:
        await self.ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{self.access}@{names.CONTEXT_ACCESS}",
                "Context": names.CONTEXT_DRIVE,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": self.drive_id,
                "OtherChannelId": self.uniqueid,
                "CallerID": f'"Test caller" <{self.caller_id}>',
                "Variable": self._variables(),
            }
        )

    def _variables(self) -> list[str]:
        # AMI splits Variable values at commas: escape them (see notes, AMI)
        out = [f"{names.VAR_VOICE}={self.voice.replace(',', chr(92) + ',')}"] if self.voice else []
        return out + ([f"{names.VAR_RECORD}={self.record}"] if self.record else [])

    def _mine(self, e: AmiEvent) -> bool:
        return e.get("Uniqueid") == self.uniqueid

    def prompts_heard(self) -> list[str]:
        """Every AGI command that played sound to this caller, in order."""
        return [
            e.command
            for e in self.log.matching(self._mine)
            if isinstance(e, AgiExecStart) and ("EXEC Read" in e.command or "STREAM FILE" in e.command)
        ]

    async def wait_prompt(self, phrase: str, timeout: float = 15.0) -> None:
        """Wait for the next digit read (or name recording) whose prompt says ``phrase``."""
        first = f"dialconf/{phrase}"

        def read_of(e: AmiEvent) -> bool:
            if not (self._mine(e) and isinstance(e, AgiExecStart)):
                return False
            if phrase == "record_name":
                return e.command.startswith("RECORD FILE")
            return "EXEC Read" in e.command and first in e.command

        wanted = self._consumed.get(phrase, 0) + 1
        found = await self.log.wait_for(read_of, timeout, count=wanted)
        self._consumed[phrase] = wanted
        event = found[wanted - 1]
        assert isinstance(event, AgiExecStart)
        self.channel2 = event.channel

    async def press(self, digits: str) -> None:
        assert self.channel2, "wait for a prompt first"
        drive = self.channel2[:-1] + "1"
        for digit in digits:
            await self.ami.action({"Action": "PlayDTMF", "Channel": drive, "Digit": digit, "Duration": "100"})

    async def answer_prompt(self, phrase: str, digits: str) -> None:
        await self.wait_prompt(phrase)
        await self.press(digits)

    async def join(self, conference: str, pin: str, say_name_s: float = 0.0) -> None:
        """The whole journey: press 1, conference number, PIN, name (``say_name_s`` of it)."""
        await self.dial()
        await self.answer_prompt("press_one", "1")
        await self.answer_prompt("conference_number", conference + "#")
        await self.answer_prompt("pin", pin + "#")
        await self.wait_prompt("record_name")
        if say_name_s:
            await asyncio.sleep(say_name_s)  # the caller "speaking": how long the name takes
        await self.press("#")

    def played(self) -> list[str]:
        """Catalogue phrases this caller was played, in order (from reads and plain plays).

        Other languages' "press N for ..." lines come as absolute paths: ``<lang>:language_choice``.
        """
        out: list[str] = []
        for command in self.prompts_heard():
            for lang, phrase in re.findall(r"(?:/(\w+)/)?dialconf/(\w+)", command):
                out.append(f"{lang}:{phrase}" if lang else phrase)
        return out

    async def hangup(self) -> None:
        assert self.channel2, "the call never reached the IVR"
        await self.ami.action({"Action": "Hangup", "Channel": self.channel2})
