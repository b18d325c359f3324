"""What a node does with the conferences it hosts (conference_ivr.cluster.hosting), over a fake
store and a fake AMI: renews what has members, releases what emptied, lets a lost lease's
members go, and ends the relayed legs of a node gone silent and closes it once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conference_ivr.cluster.hosting import Hosting, NodeView
from conference_ivr.conference.members import Conference, Member
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names


@dataclass(frozen=True)
class Node:
    name: str
    members: int
    in_flight: int = 0
    seats: int = 400
    alive: bool = True


@dataclass
class FakeStore:
    lost: set[int] = field(default_factory=set)
    dead: list[str] = field(default_factory=list)
    held: list[tuple[int, int, str]] = field(default_factory=list)
    beats: list[int] = field(default_factory=list)
    renewed: list[dict[int, int]] = field(default_factory=list)
    released: list[tuple[int, int]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def heartbeat(self, members: int) -> None:
        self.beats.append(members)

    def renew(self, held: Mapping[int, int]) -> set[int]:
        self.renewed.append(dict(held))
        return self.lost & set(held)

    def release(self, reservation_id: int, epoch: int) -> None:
        self.released.append((reservation_id, epoch))

    def dead_nodes(self) -> list[str]:
        return list(self.dead)

    def close_dead_node(self, node: str) -> int:
        self.closed.append(node)
        return 2

    def nodes(self) -> Sequence[NodeView]:
        return [Node("node1", 3), Node("node2", 0, alive=not self.dead)]

    def held_here(self) -> list[tuple[int, int, str]]:
        return list(self.held)


class FakeLive:
    def __init__(self) -> None:
        self.rooms: dict[str, Conference] = {}

    @property
    def members(self) -> dict[str, set[str]]:
        return {b: set(c.members) for b, c in self.rooms.items() if c.members}

    def conference(self, bridge: str) -> Conference | None:
        return self.rooms.get(bridge)

    def put(self, bridge: str, *channels: str) -> None:
        now = datetime.now(UTC)
        members = {ch: Member(ch, bridge, ch, "", False, now, i) for i, ch in enumerate(channels)}
        self.rooms[bridge] = Conference(bridge, members)


class FakeAmi:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]:
        self.sent.append(fields)
        return [{"Response": "Success"}]


def _hosting(store: FakeStore, live: FakeLive, ami: FakeAmi) -> Hosting:
    return Hosting(store, live, ami, Metrics(), renew_s=1, grace_s=0, here="node1")


async def test_a_conference_with_members_is_renewed_and_an_emptied_one_released() -> None:
    store, live, ami = FakeStore(), FakeLive(), FakeAmi()
    hosting = _hosting(store, live, ami)
    a, b = names.bridge_name("111111"), names.bridge_name("222222")
    live.put(a, "PJSIP/x-1", "PJSIP/node-node2-1", "PJSIP/x-2")
    hosting.hold(1, a, 4)
    hosting.hold(2, b, 7)
    await hosting.tick()
    assert store.beats == [3]
    assert store.renewed == [{1: 4}]
    assert store.released == [(2, 7)]
    assert hosting.hosts(1) and not hosting.hosts(2)
    assert [(r.name, r.here) for r in hosting.rows()] == [("node1", True), ("node2", False)]


async def test_a_lost_lease_lets_its_members_go() -> None:
    store, live, ami = FakeStore(lost={1}), FakeLive(), FakeAmi()
    hosting = _hosting(store, live, ami)
    bridge = names.bridge_name("111111")
    live.put(bridge, "PJSIP/x-1", "PJSIP/node-node2-1")
    hosting.hold(1, bridge, 4)
    await hosting.tick()
    assert {a["Channel"] for a in ami.sent if a["Action"] == "Hangup"} == {"PJSIP/x-1", "PJSIP/node-node2-1"}
    assert not hosting.hosts(1)


async def test_a_dead_node_has_its_relayed_legs_ended_and_is_closed_once() -> None:
    store, live, ami = FakeStore(dead=["node2"]), FakeLive(), FakeAmi()
    hosting = _hosting(store, live, ami)
    await hosting.tick()
    await hosting.tick()
    assert [a["Channel"] for a in ami.sent] == [names.relay_channels("node2")]
    assert store.closed == ["node2"]


async def test_a_restarted_node_takes_up_the_leases_it_holds() -> None:
    store, live, ami = FakeStore(held=[(5, 2, "555555")]), FakeLive(), FakeAmi()
    hosting = _hosting(store, live, ami)
    await hosting.restore()
    live.put(names.bridge_name("555555"), "PJSIP/x-9")
    await hosting.tick()
    assert store.renewed == [{5: 2}]
