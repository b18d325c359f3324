"""The conferences this node hosts (issue 21), and what keeps the cluster's picture true.

Every ``renew_s`` this node tells the store it lives and how many members it mixes (the
heartbeat others place by), renews the lease of each conference it hosts while that has
members (or a caller on the way in), and lets go of the emptied ones. A renewal the store
refuses means another node holds the conference now (this one was cut off long enough for its
lease to lapse): its members here are let go, so no conference is mixed in two places.

It also watches the other nodes: one silent past ``node_dead_after_s`` is dead. Callers this
node relays to it are hung up (their Dial returns and the ``rejoin`` route places them again,
cluster/rejoin.py), and its open usage legs, live seats and leases are closed in the store
(every survivor may do it: the store's close is idempotent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from booking.web.ports import NodeRow
from conference_ivr.conference.members import Conference
from conference_ivr.errors import AmiError
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)


class NodeView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def members(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def seats(self) -> int: ...
    @property
    def alive(self) -> bool: ...


class ClusterStore(Protocol):
    """What hosting needs of booking.services.placement (blocking: run in a thread)."""

    def heartbeat(self, members: int) -> None: ...
    def renew(self, held: Mapping[int, int]) -> set[int]: ...
    def release(self, reservation_id: int, epoch: int) -> None: ...
    def dead_nodes(self) -> list[str]: ...
    def close_dead_node(self, node: str) -> int: ...
    def nodes(self) -> Sequence[NodeView]: ...
    def held_here(self) -> list[tuple[int, int, str]]: ...  # (reservation id, epoch, number)


class LiveView(Protocol):
    """What hosting reads of the live model (conference_ivr.conference.live)."""

    @property
    def members(self) -> dict[str, set[str]]: ...
    def conference(self, bridge: str) -> Conference | None: ...


class Actions(Protocol):
    """The AMI client's action (conference_ivr.ami.client)."""

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]: ...


@dataclass
class Held:
    bridge: str
    epoch: int
    since: float  # monotonic: when last placed here (a caller may still be on the way in)


class Hosting:
    def __init__(
        self,
        store: ClusterStore,
        live: LiveView,
        ami: Actions,
        metrics: Metrics,
        renew_s: float,
        grace_s: float,
        here: str,
    ) -> None:
        self._store = store
        self._live = live
        self._ami = ami
        self._metrics = metrics
        self._renew_s = renew_s
        self._grace_s = grace_s  # a conference placed here this recently is kept without members
        self._held: dict[int, Held] = {}
        self._dead: set[str] = set()
        self._here = here
        self._rows: list[NodeRow] = []

    def hold(self, reservation_id: int, bridge: str, epoch: int) -> None:
        """A caller was placed here under lease ``epoch`` (the claim or a live lease)."""
        self._held[reservation_id] = Held(bridge, epoch, time.monotonic())

    def rows(self) -> list[NodeRow]:
        """Every node as the last tick read them (the dashboard's, without a store read)."""
        return list(self._rows)

    def hosts(self, reservation_id: int) -> bool:
        return reservation_id in self._held

    async def restore(self) -> None:
        """After a restart: the leases the store says this node holds (its members are still
        in their conferences: ConfBridge runs in the dialplan)."""
        for reservation_id, epoch, number in await asyncio.to_thread(self._store.held_here):
            self._held.setdefault(reservation_id, Held(names.bridge_name(number), epoch, time.monotonic()))

    async def run(self) -> None:
        await self.restore()
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("cluster.tick_failed")
            await asyncio.sleep(self._renew_s)

    async def tick(self) -> None:
        members = self._live.members
        await asyncio.to_thread(self._store.heartbeat, sum(len(m) for m in members.values()))
        now = time.monotonic()
        busy = {
            r: h.epoch for r, h in self._held.items() if h.bridge in members or now - h.since < self._grace_s
        }
        for reservation_id in [r for r in self._held if r not in busy]:
            held = self._held.pop(reservation_id)
            await asyncio.to_thread(self._store.release, reservation_id, held.epoch)
        lost = await asyncio.to_thread(self._store.renew, busy) if busy else set()
        for reservation_id in lost:
            await self._give_up(reservation_id)
        self._metrics.leases_held.set(len(self._held))
        await self._watch_nodes()

    async def _give_up(self, reservation_id: int) -> None:
        held = self._held.pop(reservation_id, None)
        if held is None:
            return
        self._metrics.leases_lost.inc()
        conference = self._live.conference(held.bridge)
        channels = [m.channel for m in conference.members.values()] if conference else []
        log.warning("cluster.lease_lost", reservation=reservation_id, epoch=held.epoch, members=len(channels))
        for channel in channels:  # a relayed member's node places it again (rejoin)
            await self._hang_up(channel)

    async def _watch_nodes(self) -> None:
        loads = await asyncio.to_thread(self._store.nodes)
        self._rows = [
            NodeRow(n.name, n.members, n.in_flight, n.seats, n.alive, n.name == self._here) for n in loads
        ]
        for load in loads:
            self._metrics.node_members.labels(node=load.name).set(load.members)
            self._metrics.node_alive.labels(node=load.name).set(1 if load.alive else 0)
        dead = set(await asyncio.to_thread(self._store.dead_nodes))
        for node in sorted(dead - self._dead):
            log.warning("cluster.node_dead", node=node)
            await self._hang_up(names.relay_channels(node))
            closed = await asyncio.to_thread(self._store.close_dead_node, node)
            log.info("cluster.node_closed", node=node, legs=closed)
        self._dead = dead

    async def _hang_up(self, channel: str) -> None:
        try:
            await self._ami.action({"Action": "Hangup", "Channel": channel})
        except AmiError as e:  # none left (NoSuchChannel) or AMI down: the next tick sees again
            log.info("cluster.hangup_skipped", channel=channel, error=str(e))
