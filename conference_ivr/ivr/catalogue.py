"""Phrase catalogues, one TOML file per language in ``catalogues/``.

A phrase is played as the sound ``dialconf/<phrase>`` in the caller's channel language;
phrases with ``{n}`` or ``{time}`` are two sounds around a spoken number or time
(``dialconf/<phrase>_a``, ``dialconf/<phrase>_b``). Numbers are Asterisk's own (SAY NUMBER)
where its sound package has them, otherwise ``dialconf/num/<n>``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

LANGUAGES = ("en", "cs", "de", "fr", "pl")
# At the greeting, these keys switch the caller's language (1 joins).
LANGUAGE_KEYS = {"2": "en", "3": "cs", "4": "de", "5": "fr", "6": "pl"}
SOUND_PREFIX = "dialconf"
GENERATED_NUMBERS = range(200)
_SLOT = re.compile(r"\{(n|time)\}")


@dataclass(frozen=True)
class Catalogue:
    language: str
    name: str
    voice: str
    stock_dir: str | None
    stock_numbers: bool
    phrases: dict[str, str]

    def sounds(self, phrase: str) -> list[str]:
        """The sound names that say ``phrase`` (without its number slot)."""
        if phrase not in self.phrases:
            raise KeyError(f"{self.language}: no phrase {phrase!r}")
        if is_template(self.phrases[phrase]):
            return [s for s in template_parts(self, phrase) if s]
        return [f"{SOUND_PREFIX}/{phrase}"]

    def number_sounds(self, n: int) -> list[str] | None:
        """Sounds for ``n`` when they are generated; None when Asterisk says it (SAY NUMBER)."""
        if self.stock_numbers:
            return None
        if n in GENERATED_NUMBERS:
            return [f"{SOUND_PREFIX}/num/{n}"]
        return [f"{SOUND_PREFIX}/num/{d}" for d in str(n)]


def is_template(text: str) -> bool:
    return bool(_SLOT.search(text))


def split_template(text: str) -> tuple[str, str]:
    before, _slot, after = _SLOT.split(text, maxsplit=1)
    return before.strip(), after.strip()


def template_parts(cat: Catalogue, phrase: str) -> tuple[str, str]:
    """Sound names before and after the slot ('' where that side has no words)."""
    before, after = split_template(cat.phrases[phrase])
    return (
        f"{SOUND_PREFIX}/{phrase}_a" if before else "",
        f"{SOUND_PREFIX}/{phrase}_b" if after else "",
    )


@cache
def catalogue(language: str) -> Catalogue:
    if language not in LANGUAGES:
        raise KeyError(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
    text = resources.files("conference_ivr.ivr").joinpath("catalogues", f"{language}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return Catalogue(
        language=data["language"],
        name=data["name"],
        voice=data["voice"],
        stock_dir=data.get("stock_dir"),
        stock_numbers=data.get("numbers") == "stock",
        phrases=dict(data["phrases"]),
    )


def catalogue_text(language: str) -> str:
    return resources.files("conference_ivr.ivr").joinpath("catalogues", f"{language}.toml").read_text("utf-8")
