"""What a running conference decided and holds, kept in the store so that a controller
restarted at any moment acts as if it had never stopped (D3, R7, R9).

An ``EndDecision`` is taken once per reservation and booked end, ``lead`` before that end
(R9): extended (the reservation's end moved, in the same transaction) or warned (the tone
is due; ``warned_at`` says it was played). A ``LiveSeat`` is a seat a live member holds in
the shared capacity beyond what any booking reserved for them (an anytime room's members, R7):
from their join until ``held_until``, which the controller keeps moving ahead while they talk.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class EndOutcome(enum.StrEnum):
    EXTENDED = "extended"
    WARNED = "warned"


@dataclass(frozen=True)
class EndDecision:
    reservation_id: int
    ends_at: datetime  # the booked end the decision was taken for
    outcome: EndOutcome
    decided_at: datetime
    warned_at: datetime | None = None  # the warning tone was played into the conference


@dataclass(frozen=True)
class LiveSeat:
    uniqueid: str  # the member's channel
    reservation_id: int
    held_from: datetime
    held_until: datetime
    node: str = ""  # the media node the member is mixed on (issue 21; '' a single node)
