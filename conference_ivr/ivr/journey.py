"""The dial-in journey: press 1, conference number, PIN, then into the ConfBridge.

The handler is thin: it reads digits, asks the booking rules, sets channel variables and
plays prompts. The dialplan runs ConfBridge itself once DIALCONF_ACTION=join is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from booking.domain.model import Role, Verdict
from booking.service import DialInOutcome, DialInStatus
from conference_ivr.agi.session import AgiSession
from conference_ivr.errors import AgiHangup
from conference_ivr.ivr.directory import DialInDirectory
from conference_ivr.ivr.prompts import Phrase, sounds
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import ControllerSettings

log = structlog.get_logger(__name__)

MAX_CONFERENCE_DIGITS = 12
MAX_PIN_DIGITS = 12

# Called with the channel's unique id when a caller is sent to ConfBridge.
JoinObserver = Callable[[str, float], None]


class CallerGaveUp(Exception):
    """The caller keyed nothing usable after every retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DialInJourney:
    def __init__(
        self,
        directory: DialInDirectory,
        settings: ControllerSettings,
        metrics: Metrics,
        on_join: JoinObserver | None = None,
    ) -> None:
        self._directory = directory
        self._settings = settings
        self._metrics = metrics
        self._on_join = on_join

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        self._metrics.calls.inc()
        lang = "en"
        await agi.answer()
        try:
            await self._press_one(agi, lang)
            outcome = await self._identify(agi, lang)
        except AgiHangup:
            self._fail("hangup")
            raise
        except CallerGaveUp as gave_up:
            self._fail(gave_up.reason)
            await self._say(agi, Phrase.GOODBYE, lang)
            await agi.hangup()
            return
        except Exception:
            log.exception("ivr.unavailable")
            self._fail("unavailable")
            await self._say(agi, Phrase.UNAVAILABLE, lang)
            await agi.hangup()
            return
        await self._join(agi, outcome, lang, answered)

    async def _say(self, agi: AgiSession, phrase: Phrase, lang: str) -> None:
        for sound in sounds(phrase, lang):
            await agi.stream_file(sound)

    def _fail(self, reason: str) -> None:
        self._metrics.join_failures.labels(reason=reason).inc()
        log.info("ivr.failed", reason=reason)

    async def _press_one(self, agi: AgiSession, lang: str) -> None:
        timeout = self._settings.digit_timeout_ms / 1000
        for _ in range(3):
            digits, _status = await agi.read_digits(sounds(Phrase.PRESS_ONE, lang), 1, timeout)
            if digits == "1":
                return
        raise CallerGaveUp("no_input")

    async def _identify(self, agi: AgiSession, lang: str) -> DialInOutcome:
        timeout = self._settings.digit_timeout_ms / 1000
        number = ""
        for _ in range(3):
            number, _status = await agi.read_digits(
                sounds(Phrase.CONFERENCE_NUMBER, lang), MAX_CONFERENCE_DIGITS, timeout
            )
            started = time.perf_counter()
            exists = bool(number) and await self._directory.conference_exists(number)
            self._metrics.step_seconds.labels(step="conference_number").observe(time.perf_counter() - started)
            if exists:
                break
            await self._say(agi, Phrase.UNKNOWN_CONFERENCE, lang)
        else:
            raise CallerGaveUp("unknown_conference")
        log.info("ivr.conference_number", conference=number)
        for _ in range(self._settings.max_pin_tries):
            pin, _status = await agi.read_digits(sounds(Phrase.PIN, lang), MAX_PIN_DIGITS, timeout)
            started = time.perf_counter()
            outcome = await self._directory.dial_in(number, pin)
            self._metrics.step_seconds.labels(step="pin").observe(time.perf_counter() - started)
            if outcome.status is DialInStatus.UNKNOWN_CONFERENCE:
                raise CallerGaveUp("unknown_conference")
            assert outcome.admission is not None
            verdict = outcome.admission.verdict
            if verdict is Verdict.WRONG_PIN:
                log.info("ivr.wrong_pin", conference=number)  # never the PIN itself
                await self._say(agi, Phrase.WRONG_PIN, lang)
                continue
            if verdict is Verdict.TOO_EARLY:
                await self._say(agi, Phrase.TOO_EARLY, lang)
                raise CallerGaveUp("too_early")
            if verdict is Verdict.OVER:
                await self._say(agi, Phrase.OVER, lang)
                raise CallerGaveUp("over")
            return outcome
        raise CallerGaveUp("wrong_pin")

    async def _join(self, agi: AgiSession, outcome: DialInOutcome, lang: str, answered: float) -> None:
        assert outcome.reservation is not None and outcome.admission is not None
        reservation = outcome.reservation
        moderator = outcome.admission.role is Role.MODERATOR
        bridge = names.bridge_name(reservation.room.conference_number)
        await self._say(agi, Phrase.JOINING, lang)
        await agi.set_variable(names.confbridge_option("bridge", "template"), names.BRIDGE_PROFILE)
        # The first joiner fixes the bridge profile, so every caller carries the seat limit.
        await agi.set_variable(names.confbridge_option("bridge", "max_members"), str(reservation.participant_limit))
        profile = names.USER_PROFILE_MODERATOR if moderator else names.USER_PROFILE_PARTICIPANT
        await agi.set_variable(names.confbridge_option("user", "template"), profile)
        await agi.set_variable(names.VAR_BRIDGE, bridge)
        await agi.set_variable(names.VAR_MENU, names.MENU_MODERATOR if moderator else names.MENU_PARTICIPANT)
        await agi.set_variable(names.VAR_ACTION, names.ACTION_JOIN)
        role = "moderator" if moderator else "participant"
        self._metrics.joins.labels(role=role).inc()
        log.info("ivr.join", conference=reservation.room.conference_number, role=role)
        if self._on_join is not None:
            self._on_join(agi.headers.uniqueid, answered)
