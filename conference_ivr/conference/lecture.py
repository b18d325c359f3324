"""Lecture mode and raised hands (issue 19): the moderator mutes every participant, who cannot
give themselves voice; a participant raises a hand; the moderator gives one of them the floor.

Not ConfBridge's own mute-all (keypad 4): on Asterisk 22 a participant's own ``toggle_mute``
unmutes them even under it (tried: ConfbridgeUnmute, ConfbridgeList Muted: No), and it knows no
floor. So each participant is muted over AMI (ConfbridgeMute); one who unmutes while lecture mode
keeps them muted (their ConfbridgeUnmute) is muted again at once and told why; one who joins
meanwhile is muted on joining. Moderators are never muted by it.

The state is the live model's (``Conference.lecture``/``floor``, ``Member.hand``); a copy sits in
an Asterisk global variable per conference (``names.lecture_state_variable``), written on every
change, so a restarted controller takes it up again after its resync (``restore``).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from booking.web.ports import NotInConference, NotRunning
from conference_ivr.ami import events as ev
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Conference, Member
from conference_ivr.errors import AmiError, NoSuchChannel, NoSuchConference
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

Act = Callable[[dict[str, str]], Awaitable[list[dict[str, str]]]]  # AmiClient.action


class Announces(Protocol):
    async def announce(self, bridge: str, sounds: list[str], kind: str) -> int: ...


@dataclass(frozen=True)
class SavedLecture:
    """A conference's lecture state as kept in Asterisk (see ``encode``)."""

    session: str = ""
    lecture: bool = False
    floor: str = ""
    hands: tuple[str, ...] = ()  # unique ids, first raised first

    @property
    def empty(self) -> bool:
        return not (self.lecture or self.floor or self.hands)


def encode(c: Conference) -> str:
    """``session=<id> lecture=0|1 floor=<uid> hands=<uid>,<uid>``: unique ids hold no spaces."""
    hands = ",".join(m.uniqueid for m in c.hands())
    return f"session={c.session or ''} lecture={int(c.lecture)} floor={c.floor or ''} hands={hands}"


def decode(text: str) -> SavedLecture:
    """What ``encode`` wrote; anything else (empty, garbled) is no lecture state."""
    fields = dict(part.partition("=")[::2] for part in text.split() if "=" in part)
    return SavedLecture(
        fields.get("session", ""),
        fields.get("lecture") == "1",
        fields.get("floor", ""),
        tuple(u for u in fields.get("hands", "").split(",") if u),
    )


class Floor(enum.Enum):
    """What the moderator's "floor" key did."""

    GIVEN = "given"
    TAKEN_BACK = "taken_back"
    NO_HANDS = "no_hands"


class LectureMode:
    def __init__(self, act: Act, live: LiveConferences, announcer: Announces) -> None:
        self._act = act
        self._live = live
        self._announcer = announcer
        live.on_joined(self._joined)
        live.on_rebuilt(self.restore)

    # --- what the moderator does -------------------------------------------------------------

    async def set_lecture(self, bridge: str, on: bool) -> None:
        """On: every participant muted, the floor nobody's; off: everyone's voice back."""
        c = self._running(bridge)
        if c.lecture == on:
            return
        c.lecture, c.floor = on, None  # first: the mutes' own events must not be undone
        self._live.publish(bridge)
        await self._save(c)
        with contextlib.suppress(NotInConference):  # only moderators in it (yet)
            await self._ami("ConfbridgeMute" if on else "ConfbridgeUnmute", bridge, "participants")
        await self._announce(c, ["dialconf/lecture_on" if on else "dialconf/lecture_off"], "lecture")
        log.info("lecture.set", bridge=bridge, on=on)

    async def toggle_lecture(self, bridge: str) -> bool:
        on = not self._running(bridge).lecture
        await self.set_lecture(bridge, on)
        return on

    async def give_floor(self, bridge: str, uniqueid: str) -> Member:
        """This participant may speak (their hand goes down); whoever had the floor is muted again."""
        c = self._running(bridge)
        m = c.members.get(uniqueid)
        if m is None:
            raise NotInConference(f"{uniqueid} is not in {bridge}")
        if m.moderator:
            return m  # moderators always have their voice
        before = c.members.get(c.floor) if c.floor else None
        c.floor, m.hand = m.uniqueid, 0
        self._live.publish(bridge)
        await self._save(c)
        if before is not None and before is not m and c.silenced(before):
            await self._ami("ConfbridgeMute", bridge, before.channel)
        await self._ami("ConfbridgeUnmute", bridge, m.channel)
        sounds = [str(m.name_file), "dialconf/has_floor"] if m.name_file else ["dialconf/floor_given"]
        await self._announce(c, sounds, "floor")
        log.info("lecture.floor_given", bridge=bridge)
        return m

    async def take_floor(self, bridge: str) -> Member | None:
        """The floor back from whoever has it (muted again in lecture mode); who had it."""
        c = self._running(bridge)
        m = c.members.get(c.floor) if c.floor else None
        c.floor = None
        self._live.publish(bridge)
        await self._save(c)
        if m is not None:
            if c.silenced(m):
                await self._ami("ConfbridgeMute", bridge, m.channel)
            await self._announce(c, ["dialconf/floor_back"], "floor")
            log.info("lecture.floor_taken_back", bridge=bridge)
        return m

    async def next_floor(self, bridge: str) -> tuple[Floor, Member | None]:
        """The keypad's one key: the floor back if someone has it, else to the first raised hand."""
        c = self._running(bridge)
        if c.floor in c.members:
            return Floor.TAKEN_BACK, await self.take_floor(bridge)
        hands = c.hands()
        if not hands:
            return Floor.NO_HANDS, None
        return Floor.GIVEN, await self.give_floor(bridge, hands[0].uniqueid)

    # --- what a participant does ----------------------------------------------------------------

    async def toggle_hand(self, uniqueid: str) -> bool:
        """Raise the member's hand, or lower it if raised: whether it is raised now."""
        m = self._live.member(uniqueid)
        c = self._live.conference(m.bridge) if m is not None else None
        if m is None or c is None:
            raise NotInConference(f"{uniqueid} is in no conference")
        if m.hand:
            m.hand = 0
        else:
            c.raise_hand(m)
        self._live.publish(c.bridge)
        await self._save(c)
        log.info("lecture.hand", bridge=c.bridge, raised=bool(m.hand))
        return bool(m.hand)

    # --- keeping it true ------------------------------------------------------------------------

    async def on_event(self, event: ev.AmiEvent) -> None:
        if isinstance(event, ev.ConfbridgeUnmute):
            m = self._live.member(event.uniqueid)
            c = self._live.conference(m.bridge) if m is not None else None
            if m is not None and c is not None and c.silenced(m):
                await self._silence(c, m)
        elif isinstance(event, ev.ConfbridgeEnd) and names.parse_bridge_name(event.conference):
            await self._set_var(event.conference, "")  # a next session starts without it

    async def _joined(self, m: Member) -> None:
        c = self._live.conference(m.bridge)
        if c is not None and c.silenced(m) and not m.muted:
            await self._silence(c, m)

    async def _silence(self, c: Conference, m: Member) -> None:
        """Mute a participant lecture mode keeps muted, and tell them why (their hidden menu key)."""
        try:
            await self._act({"Action": "ConfbridgeMute", "Conference": c.bridge, "Channel": m.channel})
            for digit in names.LECTURE_MUTED_KEYS:
                await self._act(
                    {"Action": "PlayDTMF", "Channel": m.channel, "Digit": digit, "Receive": "true"}
                )
        except AmiError:
            log.warning("lecture.remute_failed", bridge=c.bridge)
            return
        log.info("lecture.remuted", bridge=c.bridge)

    async def restore(self) -> None:
        """After a resync: each conference the model holds no lecture state for takes up what
        Asterisk kept for its session; one the model does hold it for writes it down again."""
        for c in self._live.conferences():
            if c.lecture or c.floor or c.hands_raised:
                await self._save(c)  # the model outlived an AMI reconnect: it is the newer
                continue
            try:
                reply = await self._act(
                    {"Action": "Getvar", "Variable": names.lecture_state_variable(c.bridge)}
                )
            except AmiError:
                log.warning("lecture.restore_failed", bridge=c.bridge)
                continue
            saved = decode(reply[0].get("Value", "") if reply else "")
            if saved.empty or (saved.session and c.session and saved.session != c.session):
                continue  # nothing kept, or an earlier session's
            await self._take_up(c, saved)

    async def _take_up(self, c: Conference, saved: SavedLecture) -> None:
        c.lecture = saved.lecture
        c.floor = saved.floor if saved.floor in c.members else None
        for uid in saved.hands:
            if (m := c.members.get(uid)) is not None:
                c.raise_hand(m)
        self._live.publish(c.bridge)
        log.info("lecture.restored", bridge=c.bridge, lecture=c.lecture, hands=len(c.hands()))
        for m in list(c.members.values()):  # who unmuted while no controller watched
            if c.silenced(m) and not m.muted:
                await self._silence(c, m)

    # --- Asterisk -----------------------------------------------------------------------------

    def _running(self, bridge: str) -> Conference:
        c = self._live.conference(bridge)
        if c is None or not c.members:
            raise NotRunning(f"{bridge} is not running")
        return c

    async def _ami(self, action: str, bridge: str, channel: str) -> None:
        try:
            await self._act({"Action": action, "Conference": bridge, "Channel": channel})
        except NoSuchConference as exc:
            raise NotRunning(f"{bridge} is not running") from exc
        except NoSuchChannel as exc:
            raise NotInConference(f"not in {bridge} any more") from exc

    async def _announce(self, c: Conference, sounds: list[str], kind: str) -> None:
        try:
            await self._announcer.announce(c.bridge, sounds, kind)
        except AmiError:
            log.warning("lecture.announce_failed", bridge=c.bridge, kind=kind)

    async def _save(self, c: Conference) -> None:
        await self._set_var(c.bridge, encode(c))

    async def _set_var(self, bridge: str, value: str) -> None:
        """Best effort: the model is the truth while this controller runs."""
        try:
            await self._act(
                {"Action": "Setvar", "Variable": names.lecture_state_variable(bridge), "Value": value}
            )
        except AmiError:
            log.warning("lecture.save_failed", bridge=bridge)
