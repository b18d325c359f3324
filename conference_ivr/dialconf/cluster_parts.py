"""The cluster's part of a controller (issue 21), built by ``build_controller`` when this
process drives one node of several (``cluster.node``): the conferences it hosts and the
cluster's watch (``Hosting``), the placement of each admitted caller (``ClusterPlacer``, which
the journey, the browser's route and the dial-out invitation ask), and the two FastAGI routes
of relayed callers: ``peer`` (a caller another node bridges on to this one) and ``rejoin`` (a
relayed caller's leg ended)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from booking.adapters.kept_secret import kept_secret
from booking.domain.model import Reservation
from booking.services.placement import PlacementService
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.cluster.hosting import Hosting
from conference_ivr.cluster.peer_join import PeerJoin
from conference_ivr.cluster.placer import ClusterPlacer
from conference_ivr.cluster.rejoin import Rejoin
from conference_ivr.conference.live import LiveConferences
from conference_ivr.dialconf.services import Services
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import Settings

Current = Callable[[str], Awaitable[Reservation | None]]


def cluster_key(settings: Settings) -> bytes:
    """The key relay tickets are signed with, the same file for every node."""
    return kept_secret(settings.cluster.secret_file or settings.data_dir / "cluster.secret").encode()


@dataclass(frozen=True)
class ClusterParts:
    placement: PlacementService
    hosting: Hosting
    placer: ClusterPlacer
    key: bytes


def build_cluster(
    services: Services, live: LiveConferences, ami: AmiClient, metrics: Metrics, directory: ThreadedDirectory
) -> ClusterParts | None:
    placement = services.placement
    if placement is None:
        return None
    c = services.settings.cluster
    hosting = Hosting(placement, live, ami, metrics, c.renew_s, grace_s=c.in_flight_ttl_s, here=c.node)
    key = cluster_key(services.settings)

    async def place(reservation_id: int):  # type: ignore[no-untyped-def]
        return await directory.write(placement.place, reservation_id)

    async def arrived(placement_id: int) -> None:
        await directory.write(placement.arrived, placement_id)

    placer = ClusterPlacer(place, arrived, hosting, c.node, key, services.clock, c.ticket_ttl_s)
    return ClusterParts(placement, hosting, placer, key)


def add_cluster_routes(
    parts: ClusterParts,
    agi: FastAgiServer,
    journey: DialInJourney,
    services: Services,
    metrics: Metrics,
    current: Current,
) -> None:
    settings = services.settings
    tz = ZoneInfo(settings.controller.timezone)
    placement = parts.placement

    async def arrived(placement_id: int) -> None:
        await asyncio.to_thread(placement.arrived, placement_id)

    async def moved(reservation_id: int, node: str) -> bool:
        """The caller's hosting node died, or another node holds the conference now."""
        if node in await asyncio.to_thread(placement.dead_nodes):
            return True
        lease = await asyncio.to_thread(placement.lease, reservation_id)
        return lease is not None and lease.node != node

    peer = PeerJoin(journey, current, arrived, parts.hosting, parts.key, services.clock, metrics, tz)
    rejoin = Rejoin(
        journey, parts.placer, moved, current, parts.key, metrics, tz, settings.cluster.rejoin_tries
    )
    agi.add_route(names.AGI_ROUTE_PEER, peer.__call__)
    agi.add_route(names.AGI_ROUTE_REJOIN, rejoin.__call__)
