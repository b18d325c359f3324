"""The ``dialout`` route: a participant the system called (R40) hears who calls and why,
presses 1 and joins; no PIN (R49). Thin: read, decide through the dial-out service, set the
variables the dialplan's ConfBridge needs (through the journey), play prompts.

Only a channel the controller originated is served: its unique id must be the one the call's
current attempt was given (conference_ivr.conference.dialout.channel_id) while the call is being
placed; the call id in DIALCONF_DIALOUT must agree. Anything else (a channel that reaches the
dialout context some other way, with a forged or replayed call id) is hung up unserved.
"""

from __future__ import annotations

import asyncio
import time
from zoneinfo import ZoneInfo

import structlog

from booking.domain.clock import Clock
from booking.domain.dialout import CallState, Outcome
from booking.domain.model import Reservation, ReservationStatus
from booking.services.dialout import DialOutService
from conference_ivr.agi.session import AgiSession
from conference_ivr.conference.dialout import call_of, channel_id
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import AgiHangup, CallerGaveUp, JoinFailure
from conference_ivr.ivr.catalogue import LANGUAGES
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.relay import Relay
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")


class DialOutInvitation:
    def __init__(
        self,
        calls: DialOutService,
        journey: DialInJourney,
        clock: Clock,
        tz: ZoneInfo,
        tries: int,
        digit_timeout_s: float,
    ) -> None:
        self._calls = calls
        self._clock = clock
        self._journey = journey
        self._tz = tz
        self._tries = tries
        self._timeout = digit_timeout_s

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        arg = agi.headers.args[0] if agi.headers.args else ""
        uid = agi.headers.uniqueid
        call_id = call_of(uid)
        found = None
        if call_id is not None and arg == str(call_id):
            found = await asyncio.to_thread(self._calls.reservation_of, call_id)
        if found is None or uid != channel_id(found[0]) or found[0].state is not CallState.CALLING:
            security.warning("dialout.unknown_call", call=arg[:20], channel_known=found is not None)
            await agi.hangup()
            return
        call, reservation = found
        await asyncio.to_thread(self._calls.answered, call.id, agi.headers.uniqueid)
        speaker = Speaker(agi, call.language if call.language in LANGUAGES else "en", self._tz)
        try:
            await speaker.set_language(speaker.language)
            member = await self._accept(speaker, call.number, reservation)
        except (AgiHangup, CallerGaveUp) as e:
            reason = e.reason if isinstance(e, CallerGaveUp) else JoinFailure.HANGUP
            await asyncio.to_thread(self._calls.failed, call.id, Outcome.DECLINED)
            log.info("dialout.declined", call=call.id, reason=reason)
            if isinstance(e, AgiHangup):
                raise
            await speaker.say("goodbye")
            await agi.hangup()
            return
        if isinstance(member, Relay):  # mixed on another node (issue 21): bridged on to it
            await self._journey.send_on(speaker, member)
        else:
            await self._journey.enter(speaker, member, answered)
        await asyncio.to_thread(self._calls.joined, call.id)
        log.info("dialout.joined", call=call.id, reservation=reservation.id)

    async def _accept(self, speaker: Speaker, number: str, r: Reservation) -> Arrival | Relay:
        if r.status is not ReservationStatus.ACTIVE or (
            r.ends_at is not None and self._clock.now() >= r.ends_at
        ):
            await speaker.say("over")
            raise CallerGaveUp(JoinFailure.OVER)
        for _ in range(self._tries):
            key = await speaker.ask(speaker.sounds("dialout_invite"), 1, self._timeout)
            if key == "1":
                break
        else:
            raise CallerGaveUp(JoinFailure.DECLINED)
        bridge = names.bridge_name(r.room.conference_number)
        member = Arrival(
            uniqueid=speaker.agi.headers.uniqueid,
            conference_number=r.room.conference_number,
            bridge=bridge,
            moderator=False,
            language=speaker.language,
            caller_number=number,
            name_file=None,
            participant_limit=r.participant_limit,
            outbound=True,
            wait_for_moderator=r.wait_for_moderator,
            end_with_moderator=r.end_with_moderator,
        )
        relay = await self._journey.placed_elsewhere(member, r.id or 0)
        if relay is not None:
            return relay
        await self._journey.check_room(speaker, bridge, r.participant_limit)
        await self._journey.check_system(speaker, r)
        return member
