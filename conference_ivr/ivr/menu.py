"""Keypad actions the controller answers from inside a conference.

ConfBridge menus send these keys to ``dialplan_exec(dialconf-menu,<action>,1)``, which runs
the FastAGI route ``menu`` on the caller's channel; ConfBridge's own actions (mute, lock,
mute all, remove last) need no controller.

Who presses the key, and in which conference, is the controller's own knowledge, looked up by
the channel's unique id, never what channel variables say (anything that can set a variable
could claim to be a moderator): the live model (conference_ivr.conference.live, from AMI
ConfbridgeJoin/ConfbridgeList, which carry ConfBridge's admin flag, so it survives a controller
restart). When it does not know the member, moderator actions are refused.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from booking.domain.errors import RuleViolation
from booking.domain.usage import EndReason
from conference_ivr.agi.session import AgiSession
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.errors import AmiError
from conference_ivr.ivr import lecture_keys
from conference_ivr.ivr.catalogue import LANGUAGES
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")

# Seconds left in the reservation with this conference number (None: no end), off the loop.
RemainingLookup = Callable[[str], Awaitable[float | None]]
# Extend the reservation with this conference number by a period (R9): True extended, False
# refused (its seats are booked after it), None it has no end (an anytime room).
ExtendRequest = Callable[[str], Awaitable[bool | None]]
# Start or stop recording the conference (bridge, conference number): True started, False
# stopped, None not possible now; AmiError when Asterisk refused (issue 19).
RecordToggle = Callable[[str, str], Awaitable[bool | None]]
MODERATOR_ONLY = frozenset(
    {"rollcall", "end", "kicklast", "dialout", "extend", names.MENU_RECORD, *lecture_keys.MODERATOR_ACTIONS}
)


class DialRequest(Protocol):
    """A moderator asks to call someone (R50). Both raise booking's RuleViolation (or TooMany)
    when the call may not be placed; its code says why."""

    async def check(self, conference: str, bridge: str) -> None:
        """Whether this conference may call out at all (asked before the number is keyed)."""

    async def place(self, conference: str, bridge: str, number: str) -> int:
        """Call ``number``, or "" to call again everyone dialled who is missing: calls queued."""


MAX_NUMBER_DIGITS = 16
# Why a dial-out was refused (booking.services.dialout.DialOutService) -> what the moderator hears.
REFUSAL_PHRASES = {
    "not_dial_out": "dialout_disabled",
    "not_running": "dialout_disabled",
    "premium": "dialout_premium",
    "abroad": "dialout_abroad",
    "limit": "dialout_limit",
    "rate": "dialout_busy",
}


@dataclass(frozen=True)
class Seat:
    """Where a member sits, as the controller knows it."""

    bridge: str
    conference: str
    moderator: bool | None  # None: Asterisk did not say


def seat_of(uniqueid: str, live: LiveConferences) -> Seat | None:
    member = live.member(uniqueid)
    if member is None:
        return None
    return Seat(member.bridge, names.parse_bridge_name(member.bridge) or "", member.moderator)


class KeypadMenu:
    def __init__(
        self,
        remaining: RemainingLookup,
        live: LiveConferences,
        announcer: Announcer,
        ami: AmiClient,
        metrics: Metrics,
        tz: ZoneInfo,
        confirm_timeout_s: float = 5.0,
        note_end: Callable[[str, EndReason], None] = lambda _key, _reason: None,
        dial: DialRequest | None = None,
        extend: ExtendRequest | None = None,
        record: RecordToggle | None = None,
        lecture: lecture_keys.LectureKeys | None = None,
    ) -> None:
        self._remaining = remaining
        self._live = live
        self._announcer = announcer
        self._ami = ami
        self._metrics = metrics
        self._tz = tz
        self._confirm_timeout = confirm_timeout_s
        self._note_end = note_end  # tells the usage records why a leg is about to end
        self._dial = dial
        self._extend = extend
        self._record = record
        self._lecture = lecture

    async def __call__(self, agi: AgiSession) -> None:
        action = agi.headers.args[0] if agi.headers.args else ""
        language = agi.headers.language if agi.headers.language in LANGUAGES else "en"
        speaker = Speaker(agi, language, self._tz)
        seat = seat_of(agi.headers.uniqueid, self._live)
        bridge = seat.bridge if seat is not None else ""
        moderator = seat is not None and seat.moderator is True
        if action in MODERATOR_ONLY and not moderator:
            if seat is None or seat.moderator is None:
                security.warning("menu.unknown_member", action=action)
            await speaker.say("error_menu")
            return
        if action in {"count", "remaining", *lecture_keys.PARTICIPANT_ACTIONS} and seat is None:
            await speaker.say("error_menu")  # no conference known for this channel
            return
        self._metrics.menu_actions.labels(action=action).inc()
        log.info("menu.action", action=action, bridge=bridge)
        if action == "help":
            if moderator:
                await speaker.say("menu_moderator", *(["menu_record"] if self._record is not None else []))
            else:
                await speaker.say("menu_participant")
        elif action == "count":
            # Our live count leaves out announcer channels; ConfBridge's own is the fallback.
            count = len(self._live.members.get(bridge, ()))
            if not count or not self._ami.ready:
                count = int(await agi.get_full_variable(f"${{CONFBRIDGE_INFO(parties,{bridge})}}") or 0)
            await speaker.say_with_number("participants", count)
        elif action == "remaining":
            assert seat is not None
            await self._say_remaining(speaker, seat.conference)
        elif action == "rollcall":
            await self._roll_call(speaker, bridge)
        elif action == "end":
            await self._end(speaker, bridge, agi.headers.uniqueid)
        elif action == "extend" and self._extend is not None:
            assert seat is not None
            await self._extend_now(speaker, bridge, seat.conference)
        elif action == names.MENU_RECORD and self._record is not None:
            assert seat is not None
            await self._toggle_recording(speaker, bridge, seat.conference)
        elif action == "kicklast":
            await self._kick_last(speaker, bridge)
        elif action == "dialout" and self._dial is not None:
            assert seat is not None
            await self._dial_out(speaker, bridge, seat.conference)
        elif self._lecture is not None and action in lecture_keys.ACTIONS:
            await self._lecture(action, speaker, bridge, agi.headers.uniqueid)
        else:
            await speaker.say("error_menu")

    async def _say_remaining(self, speaker: Speaker, number: str) -> None:
        seconds = await self._remaining(number)
        if seconds is None:
            await speaker.say("no_end")
            return
        await speaker.say_with_number("remaining", max(0, math.ceil(seconds / 60)))

    async def _roll_call(self, speaker: Speaker, bridge: str) -> None:
        await speaker.say("roll_call")
        conference = self._live.conference(bridge)
        for member in conference.in_order() if conference else []:
            if member.name_file is not None:
                await speaker.agi.stream_file(str(member.name_file))
            else:
                await speaker.say("unnamed")
        await speaker.say("roll_call_done")

    async def _extend_now(self, speaker: Speaker, bridge: str, conference: str) -> None:
        """The moderator's 0: one period more if the shared capacity allows. Granted, everyone
        hears it (some heard the warning tone); refused or endless, the moderator hears why."""
        assert self._extend is not None
        extended = await self._extend(conference)
        log.info(
            "menu.extend", bridge=bridge, result={True: "granted", False: "refused", None: "no_end"}[extended]
        )
        if extended is None:
            await speaker.say("no_end")
        elif not extended:
            await speaker.say("extend_refused")
        else:
            try:
                await self._announcer.announce(bridge, ["dialconf/extended"], "extended")
            except AmiError:
                await speaker.say("extended")

    async def _toggle_recording(self, speaker: Speaker, bridge: str, conference: str) -> None:
        """The moderator's #1: everyone hears the recording start or stop (the recorder
        announces it); when it cannot, the moderator hears the menu's error."""
        assert self._record is not None
        try:
            started = await self._record(bridge, conference)
        except AmiError:
            log.warning("menu.record_failed", bridge=bridge)
            started = None
        log.info(
            "menu.record", bridge=bridge, result={True: "started", False: "stopped", None: "failed"}[started]
        )
        if started is None:
            await speaker.say("error_menu")

    async def _kick_last(self, speaker: Speaker, bridge: str) -> None:
        """Remove the participant who joined last. Done here, not by ConfBridge's admin_kick_last,
        which picks an announcer (an admin) if one is playing and then refuses."""
        conference = self._live.conference(bridge)
        last = conference.last_joined_participant() if conference else None
        if last is None:
            await speaker.say("error_menu")
            return
        self._note_end(last.uniqueid, EndReason.KICKED)
        await self._ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": last.channel})
        log.info("menu.removed_last", bridge=bridge)

    async def _dial_out(self, speaker: Speaker, bridge: str, conference: str) -> None:
        """R50: key a number to call it, or only # to call again whoever was dialled and is missing."""
        assert self._dial is not None
        try:
            await self._dial.check(conference, bridge)
            number = await speaker.ask(
                speaker.sounds("dialout_number"), MAX_NUMBER_DIGITS, self._confirm_timeout * 2
            )
            queued = await self._dial.place(conference, bridge, number)
        except RuleViolation as refused:
            log.info("menu.dialout_refused", bridge=bridge, code=refused.code)
            await speaker.say(REFUSAL_PHRASES.get(refused.code, "dialout_not_allowed"))
            return
        log.info("menu.dialout", bridge=bridge, calls=queued, new_number=bool(number))
        await speaker.say("dialout_calling" if queued else "error_menu")

    async def _end(self, speaker: Speaker, bridge: str, uniqueid: str) -> None:
        key = await speaker.ask(speaker.sounds("end_confirm"), 1, self._confirm_timeout)
        if key != "9":
            return
        log.info("menu.end_conference", bridge=bridge)
        self._metrics.moderator_ends.inc()
        self._note_end(bridge, EndReason.ENDED_BY_MODERATOR)
        # Everyone else hears why; the moderator (outside the bridge right now) hears it here.
        await self._announcer.announce_and_wait(
            bridge, ["dialconf/ended_by_moderator"], "ended_by_moderator", timeout=15, away={uniqueid}
        )
        await self._announcer.kick_all(bridge)
        await speaker.say("ended_by_moderator", "goodbye")
        await speaker.agi.hangup()
