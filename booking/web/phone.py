"""What a join page's phone needs (issue 20): where Asterisk's WebSocket is, which number to
call, how fast to key, and the call panel's texts in the page's language.

The booking service knows nothing of Asterisk: the composition root builds ``WebPhone`` from
the controller's settings (conference_ivr/dialconf/compose.py) and passes it in. The call
itself runs in the browser: ``/static/dialconf-phone.js`` (booking/web/js/, bundled with JsSIP
by scripts/build-phone.sh) and the page's own script.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import Request

from booking.domain.texts import FALLBACK, LANGUAGES, Texts, catalogue

PHONE_SCRIPT = "/static/dialconf-phone.js"
# The call panel's texts (booking/domain/texts/*.toml, [phone]) the page's script shows.
_PANEL_KEYS = (
    "state_idle",
    "state_connecting",
    "state_calling",
    "state_ringing",
    "state_in_call",
    "state_keying",
    "state_ended",
    "state_failed",
    "mute",
    "unmute",
    "needs_digits",
    "no_microphone",
)


@dataclass(frozen=True)
class WebPhone:
    """``ws_url``: the SIP-over-WebSocket URL (ws:// or wss://, webrtc.ws_url); ``access_numbers``:
    number -> the language its callers hear first; ``first_key_ms``/``key_gap_ms``: how long
    after the answer the public page presses 1, and after that the number and the PIN (in one
    go; the IVR's prompts are interrupted by a key, like a phone caller's)."""

    ws_url: str
    access_numbers: Mapping[str, str] = field(default_factory=lambda: {"8000": "en"})
    first_key_ms: int = 2500
    key_gap_ms: int = 1500

    def number_for(self, language: str) -> str:
        """The access number that greets in ``language``, else the first one."""
        for number, lang in self.access_numbers.items():
            if lang == language:
                return number
        return next(iter(self.access_numbers))


def page_language(request: Request) -> str:
    """``?lang=`` if it is one of ours, else the browser's first language we have, else English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return FALLBACK


def languages() -> list[tuple[str, str]]:
    """(code, the language's own name) for the language links."""
    return [(code, catalogue(code).name) for code in LANGUAGES]


def panel_texts(texts: Texts) -> dict[str, str]:
    return {key: texts(f"phone.{key}") for key in _PANEL_KEYS}
