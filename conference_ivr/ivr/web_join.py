"""The FastAGI route ``web``: a browser's call with a personal join link (issue 20, R42, R49).

The WebRTC endpoint sends the call to ``dialconf-web,join``; this route reads the call token
the page put in the SIP header (``token_source``: the one place it is read), redeems it
through the booking store off the event loop (once: a second call with it is refused), and
admits the caller exactly like a phone caller who keyed the reservation's code: the same lock,
seat and live-seat checks (``DialInJourney.check_room``/``check_system``), the same ConfBridge
templates and channel variables (``DialInJourney.enter``). No PIN (R49), no name recording:
the name typed on the page goes to the live model. The role is the link's: invitees' links
are participants', the organizer's own link a moderator's. A refused token gets a spoken
reason in the invitee's language (when the link is known) and a hangup. The token never
reaches a log line.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import structlog

from booking.domain.join_links import JoinRefusal, JoinRefused
from booking.domain.model import Role
from booking.services.join_links import Redeemed
from conference_ivr.agi.session import AgiSession
from conference_ivr.conference.members import Arrival
from conference_ivr.errors import CallerGaveUp, JoinFailure
from conference_ivr.ivr.catalogue import LANGUAGES
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.outcome import admitted
from conference_ivr.ivr.relay import Relay
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

security = structlog.get_logger("dialconf.security")

# How the route finds the call's token: the WebRTC call's SIP header (tests over a Local
# channel, which has no SIP headers, give their own).
TokenSource = Callable[[AgiSession], Awaitable[str]]
# (token, the call's unique id) -> the reservation it admits to; raises JoinRefused
Redeem = Callable[[str, str], Awaitable[Redeemed]]

SPOKEN = {
    JoinRefusal.UNKNOWN: "web_unknown",
    JoinRefusal.USED: "web_used",
    JoinRefusal.EXPIRED: "web_expired",
    JoinRefusal.NOT_ACTIVE: "web_not_active",
    JoinRefusal.OVER: "over",
}
FAILURES = {JoinRefusal.TOO_EARLY: JoinFailure.TOO_EARLY, JoinRefusal.OVER: JoinFailure.OVER}


async def sip_header_token(agi: AgiSession) -> str:
    """The call token from the SIP header of the browser's INVITE (empty when there is none)."""
    value = await agi.get_full_variable(f"${{PJSIP_HEADER(read,{names.JOIN_TOKEN_HEADER})}}")
    return (value or "").strip()


class WebJoin:
    def __init__(
        self,
        journey: DialInJourney,
        redeem: Redeem,
        metrics: Metrics,
        tz: ZoneInfo,
        default_language: str = "en",
        token_source: TokenSource = sip_header_token,
    ) -> None:
        self._journey = journey
        self._redeem = redeem
        self._metrics = metrics
        self._tz = tz
        self._default = default_language if default_language in LANGUAGES else "en"
        self._token = token_source

    async def __call__(self, agi: AgiSession) -> None:
        answered = time.monotonic()
        self._metrics.calls.inc()
        speaker = Speaker(agi, self._default, self._tz)
        await agi.answer()
        member = await admitted(speaker, self._metrics, "web", self._way_in(speaker))
        if isinstance(member, Relay):
            await self._journey.send_on(speaker, member)
        elif member is not None:
            await self._journey.enter(speaker, member, answered)

    async def _way_in(self, speaker: Speaker) -> Arrival | Relay:
        return await self._admit(speaker, await self._redeemed(speaker))

    async def _redeemed(self, speaker: Speaker) -> Redeemed:
        """The token redeemed, in the invitee's language; a refusal said and raised."""
        token = await self._token(speaker.agi)
        try:
            redeemed = await self._redeem(token, speaker.agi.headers.uniqueid)
        except JoinRefused as refused:
            await self._set_language(speaker, refused.language)
            await self._refuse(speaker, refused)
        await self._set_language(speaker, redeemed.language)
        return redeemed

    async def _set_language(self, speaker: Speaker, language: str) -> None:
        await speaker.set_language(language if language in LANGUAGES else self._default)

    async def _refuse(self, speaker: Speaker, refused: JoinRefused) -> None:
        reason = refused.reason
        # Which kind of refusal only (never the token): a burst of unknown ones is someone guessing.
        security.info("security.web_token_refused", reason=reason.value, channel="web")
        if reason is JoinRefusal.TOO_EARLY and refused.at is not None:
            await speaker.say_with_time("too_early", refused.at)
        else:
            await speaker.say(SPOKEN.get(reason, "web_unknown"))
        raise CallerGaveUp(FAILURES.get(reason, JoinFailure.WEB_TOKEN))

    async def _admit(self, speaker: Speaker, redeemed: Redeemed) -> Arrival | Relay:
        """A phone caller's checks after the right code, where the conference is mixed (with
        several media nodes it may be another: issue 21): lock and seats (moderators pass
        them), then an anytime room's live seat."""
        reservation = redeemed.reservation
        number = reservation.room.conference_number
        moderator = redeemed.role is Role.MODERATOR
        bridge = names.bridge_name(number)
        member = Arrival(
            uniqueid=speaker.agi.headers.uniqueid,
            conference_number=number,
            bridge=bridge,
            moderator=moderator,
            language=speaker.language,
            caller_number="",
            name_file=None,
            participant_limit=reservation.participant_limit,
            wait_for_moderator=reservation.wait_for_moderator,
            end_with_moderator=reservation.end_with_moderator,
            web=True,
            display_name=redeemed.name,
        )
        relay = await self._journey.placed_elsewhere(member, reservation.id or 0)
        if relay is not None:
            return relay
        if not moderator:
            await self._journey.check_room(speaker, bridge, reservation.participant_limit)
        await self._journey.check_system(speaker, reservation)
        return member
