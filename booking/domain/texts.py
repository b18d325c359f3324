"""Texts of replies, notices and invitations, one TOML catalogue per language in ``texts/``.

Keys are dotted (``error.bad_date``); ``{placeholders}`` are filled from keyword arguments.
A language without a catalogue, or a key missing from one, falls back to English.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "cs", "pl", "de", "fr")
FALLBACK = "en"


@dataclass(frozen=True)
class Catalogue:
    language: str
    name: str
    date_pattern: str
    months: tuple[str, ...]
    entries: dict[str, str]


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, str) and prefix:
            out[f"{prefix}{key}"] = value
    return out


@cache
def catalogue(language: str) -> Catalogue:
    lang = language if language in LANGUAGES else FALLBACK
    raw = tomllib.loads(resources.files("booking.domain").joinpath(f"texts/{lang}.toml").read_text("utf-8"))
    return Catalogue(lang, raw["name"], raw["date"], tuple(raw["months"]), _flatten(raw))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Texts:
    """The texts of one language."""

    def __init__(self, language: str) -> None:
        self.cat = catalogue(language)
        self.language = self.cat.language

    def __call__(self, key: str, **params: object) -> str:
        template = self.cat.entries.get(key)
        if template is None:
            template = catalogue(FALLBACK).entries[key]
        return template.format(**params)

    def has(self, key: str) -> bool:
        return key in self.cat.entries or key in catalogue(FALLBACK).entries

    def month_name(self, month: int) -> str:
        return self.cat.months[month - 1]

    def date(self, local: datetime) -> str:
        return self.cat.date_pattern.format(
            day=local.day, month=local.month, month_name=self.month_name(local.month), year=local.year
        )

    @staticmethod
    def time(local: datetime) -> str:
        return f"{local:%H:%M}"
