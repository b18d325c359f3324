"""A caller whose conference another media node mixes (issue 21): what the journey needs to
send them on. The cluster (conference_ivr/cluster) decides where and signs the ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from conference_ivr.conference.members import Arrival


@dataclass(frozen=True)
class Relay:
    node: str  # the node that hosts the conference
    dial: str  # the channel to dial (names.relay_dial)
    ticket: str  # signed: who the caller is, as the hosting node will admit them


# (the caller as admitted so far, without a name; the reservation's id) -> None: mixed here
# (the placement is this node's); else where to send the caller on.
Placer = Callable[[Arrival, int], Awaitable[Relay | None]]
