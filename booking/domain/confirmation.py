"""An e-mail order or cancel waiting for its one-time code (the sender confirms it came from
their address): the draft stored with the request, and the stored one with its id."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from booking.domain.messages import Channel


class ConfirmationState(enum.StrEnum):
    WAITING = "waiting"  # the code may still be sent back
    USED = "used"  # the request was carried out
    VOID = "void"  # too many wrong codes


@dataclass(frozen=True)
class ConfirmationDraft:
    channel: Channel
    address: str
    command: str
    language: str
    code_salt: str
    code_hash: str  # the code itself is never stored
    requested_by: str  # the id of the message that asked
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Confirmation(ConfirmationDraft):
    id: int = field(kw_only=True)
    wrong_codes: int = 0
    state: ConfirmationState = ConfirmationState.WAITING
