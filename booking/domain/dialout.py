"""Dial-out calls (R40, R49, R50): who the system calls, how often, and what came of it.

Pure: the call's state machine and what Asterisk's answers mean. Which numbers may be called
and how often: booking.domain.dialout_policy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


class CallState(enum.StrEnum):
    PENDING = "pending"  # to be dialled at next_at
    CALLING = "calling"  # originated; the result is awaited
    ANSWERED = "answered"  # picked up; the invitation is playing
    JOINED = "joined"  # pressed 1 and went in
    FAILED = "failed"  # no answer, busy or rejected on every attempt (or declined to join)
    CANCELLED = "cancelled"


class Outcome(enum.StrEnum):
    """Why an attempt ended without a join (from AMI OriginateResponse reasons)."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"  # congestion, declined, unreachable
    DECLINED = "declined"  # answered but did not press 1
    FAILED = "failed"  # the trunk or the channel failed


class Requester(enum.StrEnum):
    """Who asked for a call."""

    SCHEDULE = "schedule"  # the reservation's start (its invitees)
    MODERATOR = "moderator"  # the keypad (key 8)
    WEB = "web"  # the live page or the API


@dataclass(frozen=True)
class DialCallDraft:
    reservation_id: int
    number: str
    language: str
    next_at: datetime
    state: CallState = CallState.PENDING
    attempts: int = 0
    last_outcome: Outcome | None = None
    requested_by: Requester = Requester.SCHEDULE
    uniqueid: str = ""


@dataclass(frozen=True)
class DialCall(DialCallDraft):
    id: int = field(kw_only=True)

    def after_attempt(self, outcome: Outcome, now: datetime, max_attempts: int, retry: timedelta) -> DialCall:
        """The call after a failed attempt: again after ``retry``, or given up."""
        attempts = self.attempts + 1
        retry_again = outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED) and attempts < max_attempts
        return replace(
            self,
            attempts=attempts,
            last_outcome=outcome,
            state=CallState.PENDING if retry_again else CallState.FAILED,
            next_at=now + retry if retry_again else self.next_at,
        )


# Q.850 hangup causes of a call that failed before it was answered.
CAUSES = {
    17: Outcome.BUSY,
    18: Outcome.NO_ANSWER,
    19: Outcome.NO_ANSWER,
    21: Outcome.REJECTED,
    1: Outcome.REJECTED,
    3: Outcome.REJECTED,
    22: Outcome.REJECTED,
    34: Outcome.BUSY,
}


def outcome_of_cause(cause: int) -> Outcome:
    """A hangup cause (Q.850): 17 user busy, 18/19 no answer, 21 rejected, 1/3/22 unreachable."""
    return CAUSES.get(cause, Outcome.FAILED)


REASONS = {"3": Outcome.NO_ANSWER, "5": Outcome.BUSY, "8": Outcome.REJECTED, "1": Outcome.REJECTED}


def outcome_of(reason: str) -> Outcome:
    """AMI OriginateResponse Reason (Asterisk's AST_CONTROL_*): 3 ringing too long, 5 busy,
    8 congestion, 1 hung up before answer; anything else a failure."""
    return REASONS.get(reason.strip(), Outcome.FAILED)
