"""Which sound files say each phrase (one catalogue per language).

Keys are what the journey means; values are Asterisk sound names played in order.
"""

from __future__ import annotations

import enum


class Phrase(enum.Enum):
    PRESS_ONE = "press_one"
    CONFERENCE_NUMBER = "conference_number"
    PIN = "pin"
    UNKNOWN_CONFERENCE = "unknown_conference"
    WRONG_PIN = "wrong_pin"
    TOO_EARLY = "too_early"
    OVER = "over"
    JOINING = "joining"
    GOODBYE = "goodbye"
    UNAVAILABLE = "unavailable"


EN: dict[Phrase, list[str]] = {
    Phrase.PRESS_ONE: ["vm-press", "digits/1"],
    Phrase.CONFERENCE_NUMBER: ["conf-getconfno"],
    Phrase.PIN: ["conf-getpin"],
    Phrase.UNKNOWN_CONFERENCE: ["conf-invalid"],
    Phrase.WRONG_PIN: ["conf-invalidpin"],
    Phrase.TOO_EARLY: ["im-sorry", "please-try-call-later"],
    Phrase.OVER: ["im-sorry", "conf-noempty"],
    Phrase.JOINING: ["conf-placeintoconf"],
    Phrase.GOODBYE: ["vm-goodbye"],
    Phrase.UNAVAILABLE: ["sorry-youre-having-problems", "please-try-call-later"],
}

CATALOGUES: dict[str, dict[Phrase, list[str]]] = {"en": EN}


def sounds(phrase: Phrase, language: str = "en") -> list[str]:
    catalogue = CATALOGUES.get(language, EN)
    return catalogue.get(phrase, EN[phrase])
