"""Every prompt the flow can play exists in every language, as Asterisk will look for it.

Checked on the provisioned sounds (no English fallback counted): every catalogue phrase, both
halves of every phrase with a number or a time, the numbers (Asterisk's own digits or ours),
the other languages' "press N" lines, and every dialconf/ sound the .conf files name.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from conference_ivr.ivr.catalogue import GENERATED_NUMBERS, LANGUAGE_KEYS, LANGUAGES, catalogue
from conference_ivr.ivr.sounds import sound_file
from conference_ivr.pbx.instance import TEMPLATE_DIR
from conference_ivr.pbx.names import SOUNDS_DIR
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import AsteriskInstall

# Numbers the flow says: counts of people, minutes left, hours and minutes of a start time.
SPOKEN_NUMBERS = range(0, 200)


@pytest.fixture(scope="module")
def install(asterisk: AsteriskProcess) -> AsteriskInstall:
    return asterisk.instance.install


def test_every_catalogue_has_the_same_phrases() -> None:
    english = set(catalogue("en").phrases)
    for lang in LANGUAGES:
        assert set(catalogue(lang).phrases) == english, lang


def test_language_keys_cover_every_language_and_each_offers_its_own_key() -> None:
    assert sorted(LANGUAGE_KEYS.values()) == sorted(LANGUAGES)
    for key, lang in LANGUAGE_KEYS.items():
        text = catalogue(lang).phrases["language_choice"]
        digit_words = {"2": "2", "3": "troj", "4": "Vier", "5": "5", "6": "sześć"}
        assert digit_words[key] in text, (lang, text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_phrase_is_playable(install: AsteriskInstall, lang: str) -> None:
    cat = catalogue(lang)
    missing = [
        s for phrase in cat.phrases for s in cat.sounds(phrase) if sound_file(install, lang, s) is None
    ]
    assert not missing, f"{lang}: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_numbers_are_playable(install: AsteriskInstall, lang: str) -> None:
    cat = catalogue(lang)
    if cat.stock_numbers:
        # SAY NUMBER uses <sounds>/<lang>/digits/: the stock set must be reachable there
        for n in (*range(0, 21), 30, 40, 50, 60, 70, 80, 90):
            assert sound_file(install, lang, f"digits/{n}") is not None, (lang, n)
        assert sound_file(install, lang, "digits/hundred") or sound_file(install, lang, "digits/100"), lang
    else:
        missing = [n for n in SPOKEN_NUMBERS if sound_file(install, lang, f"dialconf/num/{n}") is None]
        assert not missing and set(SPOKEN_NUMBERS) <= set(GENERATED_NUMBERS), (lang, missing)


def test_other_languages_lines_exist_at_their_absolute_paths(install: AsteriskInstall) -> None:
    for lang in LANGUAGES:
        path = install.resolve(SOUNDS_DIR / lang / "dialconf")
        assert any(path.glob("language_choice.*")), lang


def test_every_dialconf_sound_named_in_the_conf_files_is_a_phrase() -> None:
    named: set[str] = set()
    for conf in ("confbridge.conf", "extensions.conf"):
        named |= set(re.findall(r"dialconf/(\w+)", (TEMPLATE_DIR / conf).read_text()))
    assert named, "the .conf files name no dialconf/ sounds"
    assert named <= set(catalogue("en").phrases), named - set(catalogue("en").phrases)


def test_generated_prompts_are_8khz_mono(install: AsteriskInstall) -> None:
    wav = Path(install.resolve(PurePosixPath(SOUNDS_DIR / "cs" / "dialconf" / "press_one.wav")))
    header = wav.read_bytes()[:44]
    channels = int.from_bytes(header[22:24], "little")
    rate = int.from_bytes(header[24:28], "little")
    assert (channels, rate) == (1, 8000)
    assert wav.stat().st_size > 8000  # more than half a second of speech
