"""Say catalogue phrases, numbers and times to one caller, in the caller's language."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from conference_ivr.agi.session import AgiSession
from conference_ivr.ivr.catalogue import LANGUAGE_KEYS, SOUND_PREFIX, Catalogue, catalogue, template_parts
from conference_ivr.pbx.names import SOUNDS_DIR


class Speaker:
    def __init__(
        self, agi: AgiSession, language: str, tz: ZoneInfo, sounds_dir: PurePosixPath = SOUNDS_DIR
    ) -> None:
        self.agi = agi
        self.language = language
        self.tz = tz
        self.sounds_dir = sounds_dir

    @property
    def cat(self) -> Catalogue:
        return catalogue(self.language)

    async def set_language(self, language: str) -> None:
        self.language = language
        await self.agi.set_variable("CHANNEL(language)", language)

    def sounds(self, *phrases: str) -> list[str]:
        return [s for p in phrases for s in self.cat.sounds(p)]

    def other_language_choices(self) -> list[str]:
        """Each other language offers itself in its own words (absolute paths: not our language)."""
        return list(_language_choices(self.sounds_dir, self.language))

    async def say(self, *phrases: str) -> None:
        for sound in self.sounds(*phrases):
            await self.agi.stream_file(sound)

    async def say_number(self, n: int) -> None:
        generated = self.cat.number_sounds(n)
        if generated is None:
            await self.agi.command(f'SAY NUMBER {n} ""')
            return
        for sound in generated:
            await self.agi.stream_file(sound)

    async def say_time(self, at: datetime) -> None:
        local = at.astimezone(self.tz)
        await self.say_number(local.hour)
        if local.minute:
            await self.say_number(local.minute)
        else:
            await self.say("oclock")

    async def say_with_number(self, phrase: str, n: int) -> None:
        before, after = template_parts(self.cat, phrase)
        if before:
            await self.agi.stream_file(before)
        await self.say_number(n)
        if after:
            await self.agi.stream_file(after)

    async def say_with_time(self, phrase: str, at: datetime) -> None:
        before, after = template_parts(self.cat, phrase)
        if before:
            await self.agi.stream_file(before)
        await self.say_time(at)
        if after:
            await self.agi.stream_file(after)

    async def ask(self, prompt: list[str], max_digits: int, timeout_s: float) -> str:
        """Play sounds and read digits (``#`` ends); '' on timeout."""
        digits, _status = await self.agi.read_digits(prompt, max_digits, timeout_s)
        return digits


@cache
def _language_choices(sounds_dir: PurePosixPath, language: str) -> tuple[str, ...]:
    # Built once per language: joining four paths on every greeting was ~2 % of the event
    # loop's time per join under the AGI bench's burst.
    return tuple(
        str(sounds_dir / lang / SOUND_PREFIX / "language_choice")
        for lang in LANGUAGE_KEYS.values()
        if lang != language
    )
