"""Which media node mixes a conference (booking.domain.placement, issue 21): a live lease wins;
else the claim goes to the live node with room of the least expected fill (its members, its
placements in flight and the seats booked by the conferences it holds, the new conference's own
counted), the answering node keeping it within the slack of that least; else, all full, the
answering node; no live node: nowhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.placement import Lease, NodeBeat, NodeLoad, Placement, place, statuses

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
R = 7  # the reservation placed
SLACK = 0.05


def node(
    name: str, members: int = 0, in_flight: int = 0, seats: int = 10, alive: bool = True, booked: int = 0
) -> NodeLoad:
    return NodeLoad(name, seats, members, in_flight, alive, booked)


def lease(holder: str, epoch: int = 3, expires_in: float = 5.0) -> Lease:
    return Lease(R, holder, epoch, T0 + timedelta(seconds=expires_in))


def placed(
    nodes: list[NodeLoad], here: str = "a", held: Lease | None = None, size: int = 0, slack: float = SLACK
) -> Placement | None:
    return place(R, held, here, nodes, T0, size=size, slack=slack)


def test_a_live_lease_of_a_live_node_wins_even_when_it_is_full() -> None:
    nodes = [node("a"), node("b", members=10, booked=40)]
    relayed = placed(nodes, held=lease("b"), size=5)
    assert relayed == Placement(R, "b", 3, claimed=False) and relayed.relayed_from("a")
    assert placed(nodes, held=lease("a")) == Placement(R, "a", 3, claimed=False)


def test_an_expired_lease_or_a_dead_holder_is_claimed_here_under_the_next_epoch() -> None:
    nodes = [node("a"), node("b", alive=False)]
    expired = lease("b", epoch=3, expires_in=0)  # expires at now: no longer live
    assert placed(nodes, held=expired) == Placement(R, "a", 4, claimed=True)
    dead_holder = lease("b", epoch=3, expires_in=5)
    assert placed(nodes, held=dead_holder) == Placement(R, "a", 4, claimed=True)
    assert placed(nodes) == Placement(R, "a", 1, claimed=True)  # never held


def test_the_expected_load_is_the_booked_seats_or_the_load_if_more() -> None:
    assert node("a", members=2, in_flight=1, booked=8).expected == 8  # 5 booked seats still to come
    assert node("a", members=7, in_flight=2, booked=4).expected == 9  # members the leases do not cover
    assert node("a", members=2, booked=3).expected_fill(5) == 0.8  # with a conference of 5 more
    assert node("a", seats=0).expected_fill() == float("inf")


def test_balanced_nodes_leave_the_claim_on_the_answering_node() -> None:
    nodes = [node("a", members=3, booked=5, seats=100), node("b", members=4, booked=4, seats=100)]
    assert placed(nodes, size=20) == Placement(R, "a", 1, claimed=True)  # 25 % against 24 %
    assert placed(nodes, here="b", size=20) == Placement(R, "b", 1, claimed=True)


def test_a_node_holding_booked_seats_hands_the_claim_off_though_few_have_come() -> None:
    # a has 1 member, but its conferences booked 8 of its 10 seats: b, with 3 members, takes it
    nodes = [node("a", members=1, booked=8), node("b", members=3, booked=3)]
    assert placed(nodes) == Placement(R, "b", 1, claimed=True)
    # the old measure (members and in flight only) would have kept it on a
    assert nodes[0].fill < nodes[1].fill


def test_the_answering_node_keeps_the_claim_within_the_slack_of_the_least_expected_fill() -> None:
    within = [node("a", booked=24, seats=100), node("b", booked=20, seats=100)]
    assert placed(within) == Placement(R, "a", 1, claimed=True)  # 24 % is within 5 points of 20 %
    beyond = [node("a", booked=26, seats=100), node("b", booked=20, seats=100)]
    assert placed(beyond) == Placement(R, "b", 1, claimed=True)
    assert placed(within, slack=0.0) == Placement(R, "b", 1, claimed=True)  # no slack: the least


def test_the_conference_s_own_booked_seats_weigh_on_each_node_s_own_seats() -> None:
    # a: 10 seats, empty; b: 40 seats, 5 booked. A conference of 8: 80 % on a, 32.5 % on b.
    nodes = [node("a"), node("b", booked=5, seats=40)]
    assert placed(nodes, size=8) == Placement(R, "b", 1, claimed=True)
    assert placed(nodes, size=0) == Placement(R, "a", 1, claimed=True)  # 0 % against 12.5 %


def test_a_full_node_sends_the_claim_to_the_least_filled_with_room_in_flight_counted() -> None:
    here_full = node("a", members=10)
    # b: 4 members + 4 in flight = 80 % of 10; c: 5 of 10 = 50 %: c, though b has fewer members.
    nodes = [here_full, node("b", members=4, in_flight=4), node("c", members=5)]
    assert placed(nodes) == Placement(R, "c", 1, claimed=True)
    # the fill is over each node's own seats: 10 of 40 (25 %) beats 3 of 10
    bigger = [here_full, node("b", members=3), node("c", members=10, seats=40)]
    assert placed(bigger) == Placement(R, "c", 1, claimed=True)
    # same expected fill: by name, so every node chooses alike
    tied = [here_full, node("c", members=2), node("b", in_flight=1, booked=2)]
    assert placed(tied, size=3) == Placement(R, "b", 1, claimed=True)
    # a dead node is never chosen, however empty
    dead_empty = [here_full, node("b", alive=False), node("c", members=9)]
    assert placed(dead_empty) == Placement(R, "c", 1, claimed=True)


@pytest.mark.parametrize("slack", [0.0, 1.0])
def test_a_node_without_room_never_keeps_the_claim_whatever_the_slack(slack: float) -> None:
    nodes = [node("a", members=10), node("b", members=9, booked=12)]
    assert placed(nodes, slack=slack) == Placement(R, "b", 1, claimed=True)


def test_all_full_the_answering_node_claims_it() -> None:
    nodes = [node("a", members=10), node("b", members=9, in_flight=1), node("c", members=12)]
    assert placed(nodes, held=lease("b", expires_in=-1), size=4) == Placement(R, "a", 4, claimed=True)


def test_the_answering_node_dead_and_no_other_with_room_places_nowhere() -> None:
    assert placed([node("a", alive=False), node("b", members=10)]) is None
    assert placed([]) is None
    # dead here, but another node has room: it takes the claim
    assert placed([node("a", alive=False), node("b", booked=9)], size=5) == Placement(R, "b", 1, claimed=True)


def test_a_node_is_alive_while_its_heartbeat_is_within_the_dead_after_span() -> None:
    beats = [
        NodeBeat("b", "10.0.0.2:5060", 10, 3, T0 - 6 * SECOND),
        NodeBeat("a", "10.0.0.1:5060", 10, 1, T0 - 7 * SECOND),
    ]
    found = statuses(beats, {"b": 2}, T0, 6 * SECOND, booked={"b": 8})
    assert [(s.name, s.alive, s.load, s.booked, s.expected, s.sip_address) for s in found] == [
        ("a", False, 1, 0, 1, "10.0.0.1:5060"),
        ("b", True, 5, 8, 8, "10.0.0.2:5060"),
    ]
