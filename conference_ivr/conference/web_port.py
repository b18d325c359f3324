"""The controller behind the web pages' port (booking.web.ports): the live page by conference
number, the dashboard's health and counters. Asterisk's names (bridges, channels) and errors
stay on this side."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from prometheus_client import Counter

from booking.domain.dialout import Requester
from booking.services.figures import BookingFigures
from booking.web.ports import ControllerStatus, ControllerUnavailable, NodeRow, Participant, Watch
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.dialout import DialOut
from conference_ivr.conference.lecture import LectureMode
from conference_ivr.conference.live import LiveConferences
from conference_ivr.errors import AmiError
from conference_ivr.metrics import JOIN_FAILURE_REASONS, Metrics
from conference_ivr.pbx import names

T = TypeVar("T")


async def _asked(action: Awaitable[T]) -> T:
    try:
        return await action
    except AmiError as e:
        raise ControllerUnavailable(str(e)) from e


class LivePagePort:
    """booking.web.ports.LiveConferences over the controller's LiveControl and DialOut."""

    def __init__(self, control: LiveControl, dialout: DialOut, lecture: LectureMode) -> None:
        self._control = control
        self._dialout = dialout
        self._lecture = lecture

    def running(self, conference: str) -> bool:
        return self._control.running(names.bridge_name(conference))

    def room(self, conference: str) -> tuple[bool, bool]:
        return self._control.room(names.bridge_name(conference))

    def participants(self, conference: str) -> list[Participant]:
        return [
            Participant(
                p.uniqueid,
                p.number,
                p.moderator,
                p.joined_at,
                p.muted,
                p.talking,
                p.name_recorded,
                p.waiting,
                p.hand,
                p.floor,
                p.web,
                p.name,
            )
            for p in self._control.participants(names.bridge_name(conference))
        ]

    async def refresh(self, conference: str) -> None:
        await _asked(self._control.refresh(names.bridge_name(conference)))

    def open_watch(self, conference: str, session: str = "") -> Watch:
        return self._control.open_watch(names.bridge_name(conference), session)

    def close_watch(self, watch: Watch) -> None:
        self._control.close_watch(watch)  # type: ignore[arg-type]  # only ours are handed out

    def changed(self, conference: str, reason: str) -> None:
        self._control.changed(names.bridge_name(conference), reason)

    async def remove(self, conference: str, uniqueid: str) -> None:
        await _asked(self._control.remove(names.bridge_name(conference), uniqueid))

    async def mute(self, conference: str, uniqueid: str, muted: bool) -> None:
        await _asked(self._control.mute(names.bridge_name(conference), uniqueid, muted))

    async def mute_participants(self, conference: str, muted: bool) -> None:
        await _asked(self._control.mute_participants(names.bridge_name(conference), muted))

    async def lock(self, conference: str, locked: bool) -> None:
        await _asked(self._control.lock(names.bridge_name(conference), locked))

    def lecture(self, conference: str) -> bool:
        return self._control.lecture(names.bridge_name(conference))

    async def set_lecture(self, conference: str, on: bool) -> None:
        await _asked(self._lecture.set_lecture(names.bridge_name(conference), on))

    async def give_floor(self, conference: str, uniqueid: str) -> None:
        await _asked(self._lecture.give_floor(names.bridge_name(conference), uniqueid))

    async def take_floor(self, conference: str) -> None:
        await _asked(self._lecture.take_floor(names.bridge_name(conference)))

    async def end(self, conference: str) -> None:
        await _asked(self._control.end(names.bridge_name(conference)))

    async def call(self, reservation_id: int, conference: str, number: str, current: bool) -> int:
        bridge = names.bridge_name(conference)
        return await self._dialout.request(reservation_id, bridge, number, Requester.WEB, current)


def _by_label(counter: Counter, label: str) -> dict[str, float]:
    samples = (s for m in counter.collect() for s in m.samples if s.name.endswith("_total"))
    return {s.labels[label]: s.value for s in samples}


def _total(counter: Counter) -> float:
    return sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))


def counters(metrics: Metrics) -> dict[str, float]:
    """The counters the dashboard shows, by the name it uses for them (since the controller started)."""
    m = metrics
    joins, ext = _by_label(m.joins, "role"), _by_label(m.extensions, "result")
    return {
        "calls": _total(m.calls),
        "joins_participant": joins.get("participant", 0.0),
        "joins_moderator": joins.get("moderator", 0.0),
        "pin_lockout_refusals": _total(m.pin_lockouts),
        "extensions_granted": ext.get("granted", 0.0),
        "extensions_denied": ext.get("denied", 0.0),
        "ended_at_booked_end": _total(m.terminations),
        "ended_by_moderator": _total(m.moderator_ends),
        "mobile_cap_cuts": _total(m.mobile_cuts),
        "ami_reconnects": _total(m.ami_reconnects),
    }


def failures(metrics: Metrics) -> list[tuple[str, float]]:
    """Every known join-failure reason in order (then any other seen), with its count."""
    seen = _by_label(metrics.join_failures, "reason")
    reasons = [*JOIN_FAILURE_REASONS, *sorted(set(seen) - set(JOIN_FAILURE_REASONS))]
    return [(r, seen.get(r, 0.0)) for r in reasons]


class OperationsPort:
    """booking.web.ports.Operations over the controller's parts and the booking gauges."""

    def __init__(
        self,
        live: LiveConferences,
        ami: AmiClient,
        agi: FastAgiServer,
        metrics: Metrics,
        gauges: BookingGauges,
        nodes: Callable[[], list[NodeRow]] = list,
    ) -> None:
        self._nodes = nodes  # the cluster's media nodes as last read (issue 21); none: one machine
        self._live = live
        self._ami = ami
        self._agi = agi
        self._metrics = metrics
        self._gauges = gauges

    def status(self) -> ControllerStatus:
        rooms = {
            number: (len(c.members), sum(1 for m in c.members.values() if m.moderator))
            for c in self._live.conferences()
            if (number := names.parse_bridge_name(c.bridge)) is not None
        }
        m = self._metrics
        status = ControllerStatus(self._ami.ready, self._agi.active_sessions, rooms, counters(m), failures(m))
        return dataclasses.replace(status, nodes=self._nodes())

    async def figures(self, conferences: Iterable[str]) -> BookingFigures:
        return await self._gauges.refresh(conferences)
