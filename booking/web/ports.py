"""What the web pages need of the running controller: the port they talk to it through.

The moderator's live page (``booking.web.live``) follows and steers one conference by its
conference number; the operations dashboard (``booking.web.dashboard``) reads the controller's
health and counters. The controller implements both (conference_ivr.conference.web_port); the
pages never see Asterisk's names (bridges, channels) nor its errors.

Exceptions (all ``LiveError``):

- ``NotRunning``: the conference is not running (nobody in it).
- ``NotInConference``: the participant is not (or no longer) in this conference.
- ``TooManyWatchers``: more pages follow conferences than the controller serves at once
  (``per_session``: than one signed-in session may have).
- ``ControllerUnavailable``: the telephone system did not answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from booking.services.figures import BookingFigures


class LiveError(Exception):
    """Base of what the controller's port raises."""


class NotRunning(LiveError):
    """The conference is not running (nobody in it)."""


class NotInConference(LiveError):
    """The participant is not (or no longer) in this conference."""


class TooManyWatchers(LiveError):
    def __init__(self, message: str, per_session: bool = False) -> None:
        super().__init__(message)
        self.per_session = per_session


class ControllerUnavailable(LiveError):
    """The telephone system did not answer (the controller lost Asterisk, or it failed)."""


@dataclass(frozen=True)
class Participant:
    uniqueid: str
    number: str
    moderator: bool
    joined_at: datetime
    muted: bool
    talking: bool
    name_recorded: bool
    waiting: bool = False  # for the moderator (hears hold music, not in the mix yet)
    hand: int = 0  # place among the raised hands (1 first); 0: no hand raised
    floor: bool = False  # given the floor in lecture mode
    web: bool = False  # joined from a browser with a personal link (issue 20)
    name: str = ""  # the name typed on the join page (phone callers record theirs)


class Watch(Protocol):
    async def next(self, timeout: float) -> frozenset[str]:
        """The reasons the conference changed since the last call, or none after ``timeout``."""
        ...


class LiveConferences(Protocol):
    """One conference by its number, as the live page shows and steers it."""

    def running(self, conference: str) -> bool: ...

    def room(self, conference: str) -> tuple[bool, bool]:
        """(locked, all participants muted) of a running conference."""
        ...

    def participants(self, conference: str) -> list[Participant]:
        """In join order."""
        ...

    async def refresh(self, conference: str) -> None:
        """Re-read what no event tells (the lock, the keypad's mute-all)."""
        ...

    def open_watch(self, conference: str, session: str = "") -> Watch:
        """TooManyWatchers over the caps (in total, per signed-in ``session``)."""
        ...

    def close_watch(self, watch: Watch) -> None: ...

    def changed(self, conference: str, reason: str) -> None:
        """Wake the pages that watch it (e.g. ``reservation`` after an extension)."""
        ...

    async def remove(self, conference: str, uniqueid: str) -> None: ...

    async def mute(self, conference: str, uniqueid: str, muted: bool) -> None: ...

    async def mute_participants(self, conference: str, muted: bool) -> None: ...

    async def lock(self, conference: str, locked: bool) -> None: ...

    async def end(self, conference: str) -> None: ...

    def lecture(self, conference: str) -> bool:
        """Whether lecture mode is on: participants muted, only the one with the floor speaks."""
        ...

    async def set_lecture(self, conference: str, on: bool) -> None: ...

    async def give_floor(self, conference: str, uniqueid: str) -> None:
        """Only this participant (of the muted ones) may speak; their hand goes down."""
        ...

    async def take_floor(self, conference: str) -> None:
        """Whoever has the floor is muted again (in lecture mode)."""
        ...

    async def call(self, reservation_id: int, conference: str, number: str, current: bool) -> int:
        """R50: call ``number`` now, or ("") call again everyone dialled who is missing; how
        many calls were queued. ``current``: the conference under this number is this
        reservation's. Raises booking's RuleViolation, TooMany or NotFound when refused."""
        ...


@dataclass(frozen=True)
class NodeRow:
    """One media node of a cluster (issue 21) as the store last heard of it."""

    name: str
    members: int
    in_flight: int  # callers placed on it, not joined yet
    seats: int
    alive: bool
    here: bool  # the node this page's controller drives


@dataclass(frozen=True)
class ControllerStatus:
    """The controller's health and counters at one moment (since it started)."""

    ami_up: bool
    agi_sessions: int
    rooms: dict[str, tuple[int, int]]  # conference number -> (members, moderators)
    counters: dict[str, float]  # by the names the dashboard shows them under
    failures: list[tuple[str, float]]  # every known join-failure reason, in order, with its count
    nodes: list[NodeRow] = field(default_factory=list)  # several media nodes: every one; else none


class Operations(Protocol):
    """What the operations dashboard reads."""

    def status(self) -> ControllerStatus: ...

    async def figures(self, conferences: Iterable[str]) -> BookingFigures:
        """The booking store's seats and lockouts now (read off the event loop), with the
        reservation each of ``conferences`` runs under."""
        ...
