"""Which media node mixes a conference (booking.domain.placement, issue 21): a live lease wins,
else the answering node claims under a new epoch, else the least-filled live node with room
(placements in flight counted), else, all full, the answering node; no live node: nowhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.domain.placement import Lease, NodeBeat, NodeLoad, Placement, place, statuses

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
R = 7  # the reservation placed


def node(name: str, members: int = 0, in_flight: int = 0, seats: int = 10, alive: bool = True) -> NodeLoad:
    return NodeLoad(name, seats, members, in_flight, alive)


def lease(holder: str, epoch: int = 3, expires_in: float = 5.0) -> Lease:
    return Lease(R, holder, epoch, T0 + timedelta(seconds=expires_in))


def test_a_live_lease_of_a_live_node_wins_even_when_it_is_full() -> None:
    nodes = [node("a"), node("b", members=10)]
    relayed = place(R, lease("b"), "a", nodes, T0)
    assert relayed == Placement(R, "b", 3, claimed=False) and relayed.relayed_from("a")
    assert place(R, lease("a"), "a", nodes, T0) == Placement(R, "a", 3, claimed=False)


def test_an_expired_lease_or_a_dead_holder_is_claimed_here_under_the_next_epoch() -> None:
    nodes = [node("a"), node("b", alive=False)]
    expired = lease("b", epoch=3, expires_in=0)  # expires at now: no longer live
    assert place(R, expired, "a", nodes, T0) == Placement(R, "a", 4, claimed=True)
    dead_holder = lease("b", epoch=3, expires_in=5)
    assert place(R, dead_holder, "a", nodes, T0) == Placement(R, "a", 4, claimed=True)
    assert place(R, None, "a", nodes, T0) == Placement(R, "a", 1, claimed=True)  # never held


def test_a_full_node_sends_the_claim_to_the_least_filled_with_room_in_flight_counted() -> None:
    here_full = node("a", members=10)
    # b: 4 members + 4 in flight = 80 % of 10; c: 5 of 10 = 50 %: c, though b has fewer members.
    nodes = [here_full, node("b", members=4, in_flight=4), node("c", members=5)]
    assert place(R, None, "a", nodes, T0) == Placement(R, "c", 1, claimed=True)
    # the fill is over each node's own seats: 10 of 40 (25 %) beats 3 of 10
    bigger = [here_full, node("b", members=3), node("c", members=10, seats=40)]
    assert place(R, None, "a", bigger, T0) == Placement(R, "c", 1, claimed=True)
    # same fill: by name, so every node chooses alike
    tied = [here_full, node("c", members=2), node("b", in_flight=2)]
    assert place(R, None, "a", tied, T0) == Placement(R, "b", 1, claimed=True)
    # a dead node is never chosen, however empty
    dead_empty = [here_full, node("b", alive=False), node("c", members=9)]
    assert place(R, None, "a", dead_empty, T0) == Placement(R, "c", 1, claimed=True)


def test_all_full_the_answering_node_claims_it() -> None:
    nodes = [node("a", members=10), node("b", members=9, in_flight=1), node("c", members=12)]
    assert place(R, lease("b", expires_in=-1), "a", nodes, T0) == Placement(R, "a", 4, claimed=True)


def test_the_answering_node_dead_and_no_other_with_room_places_nowhere() -> None:
    assert place(R, None, "a", [node("a", alive=False), node("b", members=10)], T0) is None
    assert place(R, None, "a", [], T0) is None
    # dead here, but another node has room: it takes the claim
    assert place(R, None, "a", [node("a", alive=False), node("b")], T0) == Placement(R, "b", 1, claimed=True)


def test_a_node_is_alive_while_its_heartbeat_is_within_the_dead_after_span() -> None:
    beats = [
        NodeBeat("b", "10.0.0.2:5060", 10, 3, T0 - 6 * SECOND),
        NodeBeat("a", "10.0.0.1:5060", 10, 1, T0 - 7 * SECOND),
    ]
    found = statuses(beats, {"b": 2}, T0, 6 * SECOND)
    assert [(s.name, s.alive, s.load, s.sip_address) for s in found] == [
        ("a", False, 1, "10.0.0.1:5060"),
        ("b", True, 5, "10.0.0.2:5060"),
    ]
