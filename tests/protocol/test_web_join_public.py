"""The public join page over HTTP (issue 20), as ``build_api`` composes it: in the browser's
language or the one asked for, carrying the phone's WebSocket URL from the settings and the
access number that greets in that language; its scripts come from this service only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from booking.domain.texts import LANGUAGES, Texts
from tests.support.composed_api import Composed, composed_api


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Composed]:
    with composed_api(tmp_path) as c:
        yield c


def config_of(html: str) -> dict[str, object]:
    found = re.search(r'<script id="join-config" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    parsed = json.loads(found.group(1))
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_speaks_each_language(web: Composed, lang: str) -> None:
    page = web.client.get(f"/join?lang={lang}")
    assert page.status_code == 200
    t = Texts(lang)
    assert f'<html lang="{lang}">' in page.text
    for key in ("title", "number", "pin", "call", "hangup", "mute"):
        assert t(f"phone.{key}") in page.text, key
    texts = config_of(page.text)["texts"]
    assert isinstance(texts, dict) and texts["state_ended"] == t("phone.state_ended")


def test_the_browsers_language_is_taken_and_an_unknown_one_is_english(web: Composed) -> None:
    assert '<html lang="de">' in web.client.get("/join", headers={"Accept-Language": "de-AT,de;q=0.9"}).text
    assert '<html lang="en">' in web.client.get("/join?lang=xx", headers={"Accept-Language": "vi"}).text


def test_the_page_calls_the_settings_websocket_and_access_number(web: Composed) -> None:
    settings = web.services.settings
    config = config_of(web.client.get("/join?lang=cs").text)
    assert config["wsUrl"] == f"ws://127.0.0.1:{settings.asterisk.http_port}/ws"
    languages = settings.access_numbers
    expected = next((n for n, lang in languages.items() if lang == "cs"), next(iter(languages)))
    assert config["target"] == expected
    assert config["firstKeyMs"] == settings.webrtc.first_key_ms
    assert config["keyGapMs"] == settings.webrtc.key_gap_ms


def test_the_scripts_are_this_services_own(web: Composed) -> None:
    html = web.client.get("/join").text
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources == ["/static/dialconf-phone.js", "/static/join-public.js"]
    assert web.client.get("/static/join-public.js").status_code == 200
