"""The cluster benchmark's measurements (issue 21): callers followed across media nodes, and the
CPU cost of a member mixed on its own node against one relayed from another.

Every node has the bench's own AMI connection, each with a NodeTracer; all stamp events with
this process's time.monotonic, so moments on different nodes compare. A caller is known by its
caller number (each SIPp call has its own): its **answer** is Newstate Up of its channel on the
node Kamailio sent it to (a PJSIP channel that is not a peer node's leg), its **join** the
ConfbridgeJoin carrying that caller number on whichever node mixes the conference. For a caller
relayed to another node the join is the peer leg's (``PJSIP/node-<answering>-...``), whose
caller number the hosting node set from the relay ticket.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.storm_measure import percentiles
from conference_ivr.ami.events import AmiEvent
from conference_ivr.pbx import names

_PEER_CHANNEL = "PJSIP/" + names.peer_endpoint("")


@dataclass(frozen=True)
class Moment:
    node: str
    at: float  # time.monotonic in the bench
    channel: str


class NodeTracer:
    """An AMI event handler for one node: answers and joins by caller number, open channels."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.answers: dict[str, Moment] = {}
        self.joins: dict[str, Moment] = {}
        self.up: set[str] = set()  # PJSIP channels not yet hung up
        self.idle = asyncio.Event()
        self.idle.set()

    def __call__(self, event: AmiEvent) -> None:
        channel = event.get("Channel")
        if not channel.startswith("PJSIP/"):
            return  # announcers (Local, CBAnn) are no callers
        now = time.monotonic()
        caller = event.get("CallerIDNum")
        if event.name == "Newchannel":
            self.up.add(channel)
            self.idle.clear()
        elif event.name == "Hangup":
            self.up.discard(channel)
            if not self.up:
                self.idle.set()
        elif event.name == "Newstate" and event.get("ChannelStateDesc") == "Up":
            if not channel.startswith(_PEER_CHANNEL):
                self.answers.setdefault(caller, Moment(self.node, now, channel))
        elif event.name == "ConfbridgeJoin":
            self.joins.setdefault(caller, Moment(self.node, now, channel))


@dataclass(frozen=True)
class Followed:
    caller: str
    answered_on: str
    joined_on: str | None
    answer_to_joined_s: float | None

    @property
    def relayed(self) -> bool:
        return self.joined_on is not None and self.joined_on != self.answered_on


def follow(tracers: list[NodeTracer], callers: set[str]) -> list[Followed]:
    """Each of ``callers`` that was answered: where, where it joined and how long it took (a
    join on any node; a caller answered twice, on two nodes, counts by its first answer)."""
    out = []
    for caller in sorted(callers):
        answers = [t.answers[caller] for t in tracers if caller in t.answers]
        if not answers:
            continue
        answer = min(answers, key=lambda m: m.at)
        joins = [t.joins[caller] for t in tracers if caller in t.joins]
        join = min(joins, key=lambda m: m.at) if joins else None
        out.append(
            Followed(
                caller,
                answer.node,
                join.node if join else None,
                join.at - answer.at if join else None,
            )
        )
    return out


def summarise(followed: list[Followed], expected: int) -> dict[str, Any]:
    """Joined / failed, answer-to-joined, and how many were relayed (by answering node)."""
    joined = [f for f in followed if f.joined_on is not None]
    answered_on: dict[str, int] = {}
    for f in followed:
        answered_on[f.answered_on] = answered_on.get(f.answered_on, 0) + 1
    return {
        "expected": expected,
        "answered": len(followed),
        "joined": len(joined),
        "failed": expected - len(joined),
        "relayed": sum(1 for f in joined if f.relayed),
        "answered_on": dict(sorted(answered_on.items())),
        "answer_to_joined_s": percentiles([f.answer_to_joined_s for f in joined if f.answer_to_joined_s]),
        "relayed_answer_to_joined_s": percentiles(
            [f.answer_to_joined_s for f in joined if f.relayed and f.answer_to_joined_s]
        ),
        "local_answer_to_joined_s": percentiles(
            [f.answer_to_joined_s for f in joined if not f.relayed and f.answer_to_joined_s]
        ),
    }


def ms_per_member_s(
    cpu_s: float, idle_cpu_s: float, window_s: float, idle_window_s: float, n: int
) -> float | None:
    """CPU ms a member (or relayed leg) costs its node per second: the window's CPU less the
    node's idle rate over the same length, shared by the ``n`` members it carried."""
    if n <= 0 or window_s <= 0 or idle_window_s <= 0:
        return None
    extra = cpu_s - idle_cpu_s / idle_window_s * window_s
    return round(extra / window_s / n * 1000, 3)
