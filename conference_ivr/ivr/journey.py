"""The dial-in journey: greeting and language, press 1, conference number, PIN, checks,
name recording, then into the ConfBridge.

The handler is thin: it reads digits, asks the booking rules, sets channel variables and plays
prompts. Every way out says why. The dialplan runs ConfBridge once DIALCONF_ACTION=join.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import NoReturn
from zoneinfo import ZoneInfo

import structlog

from booking.domain.model import Reservation, Role, Verdict
from booking.services.dialin import DialInOutcome, DialInStatus
from conference_ivr.agi.session import AgiSession
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import AgiHangup, CallerGaveUp, JoinFailure
from conference_ivr.ivr.catalogue import LANGUAGE_KEYS, LANGUAGES
from conference_ivr.ivr.directory import DialInDirectory
from conference_ivr.ivr.outcome import admitted
from conference_ivr.ivr.relay import Placer, Relay
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import ControllerSettings

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")

MAX_CONFERENCE_DIGITS = 12
MAX_PIN_DIGITS = 12
TRIES = 3

# Told of each caller sent into ConfBridge, with the monotonic time the call was answered.
JoinObserver = Callable[[Arrival, float], None]
# (reservation id, caller number) -> the name this caller recorded in it before, if any
KnownName = Callable[[int, str], Awaitable[str | None]]
# Holds a seat of the system's capacity for a caller into an anytime room (R7):
# (reservation id, unique id) -> granted?
LiveSeatGate = Callable[[int, str], Awaitable[bool]]
# Holds a seat: (bridge, unique id, participant limit, ConfBridge's party count) -> granted?
SeatGate = Callable[[str, str, int, int], bool]
# ConfBridge's own max_members is only a backstop above the controller's seat count: it also
# counts the short-lived announcer channels (names, warning tone), which must not turn anyone away.
ANNOUNCER_HEADROOM = 3


def _count_parties(bridge: str, uniqueid: str, limit: int, parties: int) -> bool:
    return parties < limit


async def _no_name(reservation_id: int, caller_number: str) -> str | None:
    return None


async def _any_seat(reservation_id: int, uniqueid: str) -> bool:
    return True


def _not_recorded(bridge: str) -> bool:
    return False


def waiting_options(member: Arrival) -> list[tuple[str, str]]:
    """ConfBridge's own options for a participant of a reservation that waits for, or ends
    with, its moderators (who are marked users: confbridge.conf). A waiting participant is
    muted and hears the hold music of its class until the first moderator joins."""
    if member.moderator:
        return []
    options: list[tuple[str, str]] = []
    if member.wait_for_moderator:
        options += [("wait_marked", "yes"), ("music_on_hold_when_empty", "yes"),
                    ("music_on_hold_class", names.MOH_CLASS)]  # fmt: skip
    if member.end_with_moderator:
        options.append(("end_marked", "yes"))
    return options


class DialInJourney:
    def __init__(
        self,
        directory: DialInDirectory,
        settings: ControllerSettings,
        metrics: Metrics,
        access_languages: dict[str, str],
        names_dir: PurePosixPath | None = None,
        on_join: JoinObserver | None = None,
        seats: SeatGate = _count_parties,
        known_name: KnownName = _no_name,
        live_seat: LiveSeatGate = _any_seat,
        recorded: Callable[[str], bool] = _not_recorded,
        place: Placer | None = None,
    ) -> None:
        self._directory = directory
        self._settings = settings
        self._metrics = metrics
        self._access_languages = access_languages
        self._known_name = known_name
        self._live_seat = live_seat
        self._names_dir = names_dir
        self._on_join = on_join
        self._seats = seats
        self._recorded = recorded  # whether a conference is being recorded now (issue 19)
        self._tz = ZoneInfo(settings.timezone)
        self._place = place  # several media nodes (issue 21): where the conference is mixed

    @property
    def _timeout(self) -> float:
        return self._settings.digit_timeout_ms / 1000

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        self._metrics.calls.inc()
        access = agi.headers.args[0] if agi.headers.args else agi.headers.extension
        language = self._access_languages.get(access, "en")
        speaker = Speaker(agi, language if language in LANGUAGES else "en", self._tz)
        await agi.answer()
        member = await admitted(speaker, self._metrics, "ivr", self._way_in(speaker, access))
        if isinstance(member, Relay):
            await self.send_on(speaker, member)
        elif member is not None:
            await self._join(speaker, member, answered)

    async def _way_in(self, speaker: Speaker, access: str) -> Arrival | Relay:
        await speaker.set_language(speaker.language)
        await self._greeting(speaker)
        number, outcome = await self._identify(speaker)
        return await self._admit(speaker, number, outcome, access)

    async def _greeting(self, speaker: Speaker) -> None:
        """ "To join press 1"; keys 2-6 switch the language and repeat the greeting."""
        tries = 0
        while tries < TRIES:
            prompt = speaker.sounds("press_one") + speaker.other_language_choices()
            key = await speaker.ask(prompt, 1, self._timeout)
            if key == "1":
                return
            if key in LANGUAGE_KEYS:
                await speaker.set_language(LANGUAGE_KEYS[key])
                log.info("ivr.language", language=speaker.language)
                continue
            tries += 1
            await speaker.say("no_input" if not key else "error_menu")
        raise CallerGaveUp(JoinFailure.NO_INPUT)

    async def _identify(self, speaker: Speaker) -> tuple[str, DialInOutcome]:
        """The conference number, then the code, then one verdict. A number that is no
        conference and a wrong code get the same answer, so numbers cannot be found by calling;
        every other way out (too early, over, full, locked) is said only after a right code.

        Both may be keyed in one go (``123456#654321#``, issue 23): the number's prompt asks for
        both, and the PIN's own prompt comes after a second of silence the caller who keys on
        never hears. What is said before asking again is the next read's prompt, so a caller
        can key over it too."""
        caller = speaker.agi.headers.callerid
        guessed = False
        before: list[str] = []  # said first, as part of the next read's prompt
        for round_ in range(1, self._settings.max_pin_tries + 1):
            number = await speaker.ask(
                speaker.sounds(*before, "conference_number"), MAX_CONFERENCE_DIGITS, self._timeout
            )
            prompt = speaker.sounds("pin_pause", "pin")
            pin = await speaker.ask(prompt, MAX_PIN_DIGITS, self._timeout) if number else ""
            if not pin:
                if round_ == self._settings.max_pin_tries:
                    await speaker.say("no_input")
                before = ["no_input", "try_again"]
                continue
            started = time.perf_counter()
            outcome = await self._directory.dial_in(number, pin, caller)
            self._metrics.step_seconds.labels(step="pin").observe(time.perf_counter() - started)
            if outcome.status is DialInStatus.DECIDED:
                log.info("ivr.conference_number", conference=number)
                return number, outcome
            if outcome.status is not DialInStatus.BAD_CREDENTIALS:
                await self._refuse_guessing(speaker, number, outcome)
            guessed = True
            self._metrics.pin_wrong_guesses.inc()
            security.info("security.bad_credentials", conference=number, caller=caller)  # never the code
            if outcome.throttle_started:
                self._metrics.pin_attacks.inc()
                security.warning("security.pin_attack", conference=number, channel="phone", caller=caller)
            await speaker.say("bad_credentials")
            if outcome.delay_s:  # keys pressed during the wait are lost: it slows guessing
                await speaker.agi.exec("Wait", f"{outcome.delay_s:g}")
            before = ["try_again"]
        raise CallerGaveUp(JoinFailure.BAD_CREDENTIALS if guessed else JoinFailure.NO_INPUT)

    async def _refuse_guessing(self, speaker: Speaker, number: str, outcome: DialInOutcome) -> NoReturn:
        """A locked-out caller number, or a conference over its guessing budget for a caller it
        does not know: the code was not even compared. Said the same for any number keyed."""
        caller = speaker.agi.headers.callerid
        await speaker.say("pin_locked")
        if outcome.status is DialInStatus.CALLER_LOCKED:
            self._metrics.pin_lockouts.inc()
            security.warning("security.pin_locked_out", conference=number, caller=caller)
            raise CallerGaveUp(JoinFailure.PIN_LOCKED)
        self._metrics.pin_throttled.inc()
        security.warning("security.pin_throttled", conference=number, caller=caller)
        raise CallerGaveUp(JoinFailure.PIN_THROTTLED)

    async def _admit(
        self, speaker: Speaker, number: str, outcome: DialInOutcome, access: str
    ) -> Arrival | Relay:
        """Schedule, then (several nodes) where the conference is mixed, then lock and seat
        checks and the name recording, on the node that mixes it."""
        assert outcome.admission is not None and outcome.reservation is not None
        admission, reservation = outcome.admission, outcome.reservation
        if admission.verdict is Verdict.TOO_EARLY:
            assert reservation.starts_at is not None
            await speaker.say_with_time("too_early", reservation.starts_at)
            raise CallerGaveUp(JoinFailure.TOO_EARLY)
        if admission.verdict is Verdict.OVER:
            await speaker.say("over")
            raise CallerGaveUp(JoinFailure.OVER)
        moderator = admission.role is Role.MODERATOR
        bridge = names.bridge_name(number)
        member = Arrival(
            uniqueid=speaker.agi.headers.uniqueid,
            conference_number=number,
            bridge=bridge,
            moderator=moderator,
            language=speaker.language,
            caller_number=speaker.agi.headers.callerid,
            name_file=None,
            participant_limit=reservation.participant_limit,
            access_number=access,
            wait_for_moderator=reservation.wait_for_moderator,
            end_with_moderator=reservation.end_with_moderator,
        )
        relay = await self.placed_elsewhere(member, reservation.id or 0)
        if relay is not None:
            return relay  # the hosting node checks the room and records the name
        if not moderator:  # moderators pass a lock and the seat limit (ConfBridge admins do too)
            await self.check_room(speaker, bridge, reservation.participant_limit)
        # The name this caller recorded before is looked up while the live seat is held: two
        # store calls on two threads, so the step waits for the longer one, not for both (the
        # slowest exchange of a join under a burst, bench/agi_bench.py).
        looking_up = asyncio.ensure_future(
            self._known_name(reservation.id or 0, speaker.agi.headers.callerid)
        )
        try:
            await self.check_system(speaker, reservation)
        except BaseException:
            if not looking_up.cancel() and not looking_up.cancelled():
                looking_up.exception()  # finished (failed?) already: retrieved, so never logged as lost
            raise
        known = await looking_up
        name_file = PurePosixPath(known) if known else await self._record_name(speaker, reservation.id or 0)
        return dataclasses.replace(member, name_file=name_file)

    async def placed_elsewhere(self, member: Arrival, reservation_id: int) -> Relay | None:
        """With several media nodes: where ``member``'s conference is mixed, if not here."""
        return None if self._place is None else await self._place(member, reservation_id)

    async def name_of(self, speaker: Speaker, reservation_id: int, caller: str) -> PurePosixPath | None:
        """The name ``caller`` recorded in this reservation before, else recorded now."""
        known = await self._known_name(reservation_id, caller)
        return PurePosixPath(known) if known else await self._record_name(speaker, reservation_id)

    async def send_on(self, speaker: Speaker, relay: Relay) -> None:
        """The dialplan bridges the caller on to the node that mixes the conference."""
        await speaker.agi.set_variable(names.VAR_RELAY, relay.dial)
        await speaker.agi.set_variable(names.VAR_TICKET, relay.ticket)
        await speaker.agi.set_variable(names.VAR_ACTION, names.ACTION_RELAY)
        self._metrics.relays.inc()
        log.info("ivr.relay", node=relay.node)

    async def check_room(self, speaker: Speaker, bridge: str, limit: int) -> None:
        """A participant may go in unless the conference is locked or its seats are taken
        (dial-in and dial-out alike); raises CallerGaveUp after saying why."""
        info = await speaker.agi.get_full_variable(
            f"${{CONFBRIDGE_INFO(parties,{bridge})}},${{CONFBRIDGE_INFO(locked,{bridge})}}"
        )
        parties, _, locked = (info or "0,0").partition(",")
        if locked.strip() == "1":
            await speaker.say("locked")
            raise CallerGaveUp(JoinFailure.LOCKED)
        if not self._seats(bridge, speaker.agi.headers.uniqueid, limit, int(parties or 0)):
            await speaker.say("full")
            raise CallerGaveUp(JoinFailure.FULL)

    async def check_system(self, speaker: Speaker, reservation: Reservation) -> None:
        """An anytime room's caller (moderator too) takes a seat of the system's capacity,
        which timed bookings were promised (R7): refused, with its own reason, when none is
        left. A timed room's callers sit in the seats its booking holds."""
        if reservation.ends_at is not None or reservation.id is None:
            return
        if not await self._live_seat(reservation.id, speaker.agi.headers.uniqueid):
            await speaker.say("system_full")
            raise CallerGaveUp(JoinFailure.SYSTEM_FULL)

    async def enter(self, speaker: Speaker, member: Arrival, answered: float) -> None:
        """Send ``member`` into its conference (the dialplan runs ConfBridge after the route)."""
        await self._join(speaker, member, answered)

    async def _record_name(self, speaker: Speaker, reservation_id: int) -> PurePosixPath | None:
        """Recorded under the reservation's number, so its names go when it goes."""
        if self._names_dir is None:
            return None
        path = self._names_dir / f"{reservation_id}-{speaker.agi.headers.uniqueid}"
        await speaker.say("say_name")
        ms, silence = self._settings.name_max_ms, self._settings.name_silence_s
        reply = await speaker.agi.command(f'RECORD FILE {path} wav "#" {ms} 0 BEEP s={silence}')
        if reply.result_int < 0:
            raise AgiHangup("hung up while recording the name")
        if reply.extra.get("endpos", "0") == "0":
            return None  # nothing was said: the name stays unknown (roll call says so)
        return path

    async def _join(self, speaker: Speaker, member: Arrival, answered: float) -> None:
        agi = speaker.agi
        if self._recorded(member.bridge):  # told before going in (issue 19)
            await speaker.say("being_recorded")
        # No "you will now be placed into the conference" (2.4 s, issue 23): ConfBridge plays
        # its join tone to the joiner as well as to the room (confbridge.conf sound_join).
        await agi.set_variable(names.confbridge_option("bridge", "template"), names.BRIDGE_PROFILE)
        # The first joiner fixes the bridge profile, so every caller carries the seat limit.
        backstop = member.participant_limit + ANNOUNCER_HEADROOM
        await agi.set_variable(names.confbridge_option("bridge", "max_members"), str(backstop))
        profile = names.USER_PROFILE_MODERATOR if member.moderator else names.USER_PROFILE_PARTICIPANT
        await agi.set_variable(names.confbridge_option("user", "template"), profile)
        for option, value in waiting_options(member):
            await agi.set_variable(names.confbridge_option("user", option), value)
        await agi.set_variable(names.VAR_BRIDGE, member.bridge)
        await agi.set_variable(names.VAR_CONFERENCE, member.conference_number)
        await agi.set_variable(names.VAR_ROLE, "moderator" if member.moderator else "participant")
        await agi.set_variable(
            names.VAR_MENU, names.MENU_MODERATOR if member.moderator else names.MENU_PARTICIPANT
        )
        await agi.set_variable(names.VAR_ACTION, names.ACTION_JOIN)
        role = "moderator" if member.moderator else "participant"
        self._metrics.joins.labels(role=role).inc()
        log.info("ivr.join", conference=member.conference_number, role=role, language=member.language)
        if self._on_join is not None:
            self._on_join(member, answered)
