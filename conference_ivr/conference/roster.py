"""Who joined through the IVR: role, language and recorded name, by channel unique id.

The journey fills it when it sends a caller to ConfBridge; announcements, the roll call and
the live list read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Member:
    uniqueid: str
    conference_number: str
    bridge: str
    moderator: bool
    language: str
    caller_number: str
    name_file: PurePosixPath | None  # as Asterisk sees it, without extension
    participant_limit: int = 0
    access_number: str = ""  # the number dialled: usage legs are rated by it (R61)
    outbound: bool = False  # called by the system (dial-out, R40): billed to the organizer


class Roster:
    def __init__(self) -> None:
        self._members: dict[str, Member] = {}
        # (conference number, caller number) -> the name a caller recorded: one who dials in
        # again (a mobile caller cut at the cap) is not asked for it twice
        self._names: dict[tuple[str, str], PurePosixPath] = {}

    def add(self, member: Member) -> None:
        self._members[member.uniqueid] = member
        if member.name_file is not None and member.caller_number:
            self._names[(member.conference_number, member.caller_number)] = member.name_file

    def known_name(self, conference_number: str, caller_number: str) -> PurePosixPath | None:
        return self._names.get((conference_number, caller_number)) if caller_number else None

    def get(self, uniqueid: str) -> Member | None:
        return self._members.get(uniqueid)

    def discard(self, uniqueid: str) -> Member | None:
        return self._members.pop(uniqueid, None)
