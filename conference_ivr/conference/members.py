"""The one model of a live conference: who is in it, as what, since when, and its flags (D3).

``Arrival`` is what the dial-in journey (or a dial-out invitation) knows of a caller it sends
into a conference; ConfBridge's Join turns it into a ``Member``, with what Asterisk reports
(channel, admin flag, mute). conference_ivr.conference.live keeps these, and only it; everyone
else reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Arrival:
    uniqueid: str
    conference_number: str
    bridge: str
    moderator: bool
    language: str
    caller_number: str  # joined from, or was called at (dial-out: the caller id shown is ours)
    name_file: PurePosixPath | None  # as Asterisk sees it, without extension
    participant_limit: int = 0
    access_number: str = ""  # the number dialled: usage legs are rated by it (R61)
    outbound: bool = False  # called by the system (dial-out, R40): billed to the organizer
    # the reservation's options for participants (ConfBridge's wait_marked / end_marked)
    wait_for_moderator: bool = False
    end_with_moderator: bool = False
    web: bool = False  # joined from a browser with a personal link (issue 20)
    display_name: str = ""  # the name typed on the join page (a phone caller records one)


@dataclass
class Member:
    uniqueid: str
    bridge: str
    channel: str
    caller_number: str
    moderator: bool  # ConfBridge's admin flag: what Asterisk enforces, not a channel variable
    joined_at: datetime  # from the store after a restart: the mobile cap counts from it (R10)
    order: int  # join order
    muted: bool = False
    talking: bool = False
    language: str = ""  # "" when nobody said (joined while the controller was down)
    name_file: PurePosixPath | None = None
    access_number: str = ""
    outbound: bool = False
    cap_warned: bool = False  # heard the mobile cap's warning (stored with the leg)
    session: str | None = None  # the ConfBridge bridge's unique id: one per session (R29)
    wait_marked: bool = False  # a participant who waits while no moderator is in (issue 19)
    end_marked: bool = False  # a participant let go when the last moderator leaves
    hand: int = 0  # a raised hand's place in the queue (the conference's count when raised); 0: none
    web: bool = False  # a browser's call (issue 20): no caller number, a typed name
    display_name: str = ""


@dataclass
class Conference:
    bridge: str
    members: dict[str, Member] = field(default_factory=dict)
    locked: bool = False
    all_muted: bool = False  # the keypad's mute-all: ConfBridge mutes every non-admin
    lecture: bool = False  # lecture mode: participants stay muted unless given the floor
    floor: str | None = None  # the participant given the floor (unique id)
    hands_raised: int = 0  # hands raised so far: the next hand's place in the queue

    def in_order(self) -> list[Member]:
        return sorted(self.members.values(), key=lambda m: m.order)

    @property
    def session(self) -> str | None:
        """The ConfBridge session its members are in (None: nobody's is known)."""
        return next((m.session for m in self.in_order() if m.session), None)

    def hands(self) -> list[Member]:
        """The raised hands, first raised first."""
        return sorted((m for m in self.members.values() if m.hand), key=lambda m: m.hand)

    def raise_hand(self, member: Member) -> None:
        if not member.hand:
            self.hands_raised += 1
            member.hand = self.hands_raised

    def silenced(self, member: Member) -> bool:
        """Whether lecture mode keeps this member muted: a participant without the floor."""
        return self.lecture and not member.moderator and member.uniqueid != self.floor

    @property
    def language(self) -> str:
        """The language of the first member who chose one, moderators first."""
        known = [m for m in self.in_order() if m.language]
        known.sort(key=lambda m: not m.moderator)
        return known[0].language if known else DEFAULT_LANGUAGE

    @property
    def moderators(self) -> int:
        return sum(m.moderator for m in self.members.values())

    def waiting(self, member: Member) -> bool:
        """ConfBridge's rule: a wait_marked member hears hold music, muted, while no marked
        user (our moderators) is in; the first one's join lets every waiting member in."""
        return member.wait_marked and not self.moderators

    def last_joined_participant(self) -> Member | None:
        participants = [m for m in self.members.values() if not m.moderator]
        return max(participants, key=lambda m: m.order) if participants else None
