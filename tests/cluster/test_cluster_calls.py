"""Two media nodes behind Kamailio on one PostgreSQL (issue 21), called by SIPp through
Kamailio: callers answered on either node end in one ConfBridge on one node; when that node is
killed (-9), Kamailio stops sending it calls, the callers relayed through the survivor are
placed again and rejoin there, a redialling caller lands on the survivor, and the dead node's
usage legs are closed."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from booking.domain.model import Reservation
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import ConfbridgeJoin
from conference_ivr.cluster.kamailio import DestinationState
from conference_ivr.errors import AmiRefused
from conference_ivr.pbx import names
from tests.support.cluster import Cluster, ClusterNode, running_cluster
from tests.support.poll import until, until_async
from tests.support.ports import free_ports
from tests.support.sipp import SippResult, run_sipp, scenario


async def _members(ami: AmiClient, bridge: str) -> list[str]:
    """The channels in ``bridge`` on one node, as its Asterisk lists them."""
    try:
        replies = await ami.action({"Action": "ConfbridgeList", "Conference": bridge})
    except AmiRefused:
        return []
    listed = [r["Channel"] for r in replies if r.get("Event") == "ConfbridgeList"]
    return [c for c in listed if not names.is_announcer_channel(c)]


def _call(
    cluster: Cluster, r: Reservation, tmp: Path, caller: str, hold_s: float
) -> asyncio.Task[SippResult]:
    steps = [(2.5, "1"), (1.0, f"{r.room.conference_number}#{r.room.pin}#"), (4.0, "#")]
    xml = scenario(steps, tmp, hold_s=hold_s, caller=caller, proxied=True)
    sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
    return asyncio.create_task(
        run_sipp(xml, tmp, "8000", cluster.front, sip_port, media_port, timeout=hold_s + 30)
    )


async def _where(cluster: Cluster, bridge: str, count: int) -> ClusterNode:
    """The one node whose ConfBridge holds ``count`` members (the other holds none)."""

    async def placed() -> ClusterNode | None:
        listed = {n.name: await _members(n.ami, bridge) for n in cluster.nodes}
        full = [n for n in cluster.nodes if len(listed[n.name]) == count]
        empty = [n for n in cluster.nodes if not listed[n.name]]
        return full[0] if len(full) == 1 and len(empty) == len(cluster.nodes) - 1 else None

    return await until_async(placed, 60, f"{count} members of {bridge} on one node")


async def test_callers_on_both_nodes_join_one_conference_and_survive_its_node(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as cluster:
        r = cluster.services.booking.book(datetime.now(UTC), 60, seats=10)
        bridge = names.bridge_name(r.room.conference_number)
        calls = []
        for i in range(4):  # Kamailio's round robin: two answered on each node
            calls.append(_call(cluster, r, tmp_path, f"+42060300010{i}", hold_s=70))
            await asyncio.sleep(0.7)
        host = await _where(cluster, bridge, 4)
        survivor = next(n for n in cluster.nodes if n is not host)
        answered_on = {
            n.name: [e for e in n.events.of_kind(ConfbridgeJoin) if e.conference == bridge]
            for n in cluster.nodes
        }
        relayed = [
            c
            for c in await _members(host.ami, bridge)
            if c.startswith(f"PJSIP/{names.peer_endpoint(survivor.name)}-")
        ]
        assert len(relayed) == 2, (answered_on, await _members(host.ami, bridge))
        epoch = _lease(cluster, r)
        assert epoch[0] == host.name
        await _forged_relay_is_refused(host, survivor, tmp_path)
        assert len(await _members(host.ami, bridge)) == 4

        await host.kill()

        # Kamailio stops sending it calls within its probing interval...
        await until(lambda: _state(cluster, host) is DestinationState.INACTIVE or None, 20, "host inactive")
        # ...the two callers the survivor relayed are placed again and rejoin there, told so...
        await until_async(
            lambda: _count(survivor, bridge, 2), 40, "the relayed callers rejoined on the survivor"
        )
        moved = survivor.events.matching(
            lambda e: e.name == "AGIExecStart" and "dialconf/moved" in e.get("Command", "")
        )
        assert len(moved) == 2
        # ...and the conference is the survivor's now, under a new epoch
        assert _lease(cluster, r) == (survivor.name, epoch[1] + 1)
        # a redialling caller of the dead node lands on the survivor
        calls.append(_call(cluster, r, tmp_path, "+420603000109", hold_s=20))
        try:
            await until_async(
                lambda: _count(survivor, bridge, 3), 40, "the redialling caller on the survivor"
            )
        except AssertionError as late:
            raise AssertionError(f"{late}: {await _members(survivor.ami, bridge)}") from None
        # the dead node's usage legs are closed
        await until(
            lambda: _open_legs(cluster, host.name) == 0 or None,
            20,
            "the dead node's legs closed",
            blocking=True,
        )
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


async def _forged_relay_is_refused(host: ClusterNode, peer: ClusterNode, tmp: Path) -> None:
    """A call from a node's own address straight into the relay extension, without a ticket:
    the peer route answers, refuses (logged) and hangs up; nobody joins."""
    peer_ip = peer.settings.asterisk.sip_bind_address
    sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
    xml = scenario([], tmp, hold_s=0, caller="forger", remote_bye=True)
    a = host.settings.asterisk
    target = f"{a.sip_bind_address}:{a.sip_port}"
    result = await run_sipp(xml, tmp, names.RELAY_EXTEN, target, sip_port, media_port, 20, peer_ip)
    assert result.returncode == 0, result.output[-1500:]
    refused = await host.events.wait_for(
        lambda e: (
            e.name == "AGIExecStart"
            and "HANGUP" in e.get("Command", "").upper()
            and e.get("Channel", "").startswith(f"PJSIP/{names.peer_endpoint(peer.name)}-")
        ),
        timeout=10,
    )
    assert refused
    assert "security.relay_ticket_refused" in host.controller.log.read_text()


async def _count(node: ClusterNode, bridge: str, count: int) -> bool:
    return len(await _members(node.ami, bridge)) == count


def _state(cluster: Cluster, node: ClusterNode) -> DestinationState | None:
    uri = f"sip:{node.settings.cluster.nodes[node.name]}"
    return next((n.state for n in cluster.kamailio.node_states() if n.uri == uri), None)


def _lease(cluster: Cluster, r: Reservation) -> tuple[str, int]:
    with cluster.services.uow.engine.connect() as conn:
        row = conn.execute(
            text("SELECT node, epoch FROM conference_leases WHERE reservation_id = :r"), {"r": r.id}
        ).one()
    return str(row.node), int(row.epoch)


def _open_legs(cluster: Cluster, node: str) -> int:
    with cluster.services.uow.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM usage_legs WHERE node = :n AND left_at IS NULL"), {"n": node}
            ).scalar_one()
        )
