"""Every text catalogue has the English keys, with the same placeholders, and renders."""

from __future__ import annotations

from datetime import datetime

import pytest

from booking.domain.texts import LANGUAGES, Texts, catalogue, placeholders


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_key_with_the_same_placeholders(language: str) -> None:
    english = catalogue("en").entries
    other = catalogue(language)
    assert other.language == language
    assert set(other.entries) == set(english)
    for key, text in english.items():
        assert placeholders(other.entries[key]) == placeholders(text), (language, key)
    assert len(other.months) == 12


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_render_with_month_names(language: str) -> None:
    t = Texts(language)
    rendered = t.date(datetime(2027, 7, 9, 14, 0))
    assert "2027" in rendered and "9" in rendered
    assert t.time(datetime(2027, 7, 9, 14, 5)) == "14:05"


def test_unknown_language_falls_back_to_english() -> None:
    assert Texts("xx").language == "en"
    assert Texts("xx")("error.zero_minutes") == Texts("en")("error.zero_minutes")
