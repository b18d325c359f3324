"""Several media nodes on one store (issue 21), on SQLite and PostgreSQL: the nodes' heartbeats,
the conferences' leases (claimed once, followed while live, fenced by epoch, their booked seats
weighing on the next claims), the placements in flight, each node's legs and seats reconciled by
its own controller only, a dead node's members closed at its last heartbeat, and the seat
capacity shared by all nodes."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.messages import Kind
from booking.domain.placement import Lease, Placement
from booking.domain.usage import EndReason
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.placement import PlacementService
from booking.services.reports import SessionReports
from booking.services.seats import LiveSeats
from booking.services.usage import LegClosed, UsageService
from booking.settings import BookingSettings, ClusterPlacementSettings
from booking.store.engine import make_engine
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0, Store

SECOND = timedelta(seconds=1)
UTC_ZONE = ZoneInfo("UTC")


def node(
    store: Store, name: str, seats: int = 400, uow: SqlUnitOfWork | None = None, hook: LegClosed | None = None
) -> PlacementService:
    settings = ClusterPlacementSettings(node=name, sip_address=f"{name}.example:5060", seats=seats)
    return PlacementService(uow or store.uow, store.clock, settings, on_closed=hook)


def live_seats(store: Store, capacity: int, name: str) -> LiveSeats:
    return LiveSeats(store.uow, store.clock, BookingSettings(system_capacity=capacity), node=name)


def claimed(p: Placement | None) -> tuple[str, int, bool]:
    assert p is not None and p.placement_id is not None
    return p.node, p.epoch, p.claimed


def in_flight(placement: PlacementService) -> dict[str, int]:
    return {n.name: n.in_flight for n in placement.nodes()}


def test_heartbeats_keep_each_node_alive_and_the_silent_one_is_dead(store: Store) -> None:
    a, b = node(store, "a", seats=20), node(store, "b")
    a.heartbeat(3)
    b.heartbeat(0)
    store.clock.advance(5 * SECOND)
    a.heartbeat(4)  # a second beat updates the row
    assert a.dead_nodes() == [] and b.dead_nodes() == []
    store.clock.advance(2 * SECOND)  # b silent for 7 s, a for 2 s
    assert a.dead_nodes() == ["b"]
    assert b.dead_nodes() == []  # a node never calls itself dead
    found = [(n.name, n.sip_address, n.seats, n.members, n.alive, n.heartbeat_at) for n in a.nodes()]
    assert found == [
        ("a", "a.example:5060", 20, 4, True, T0 + 5 * SECOND),
        ("b", "b.example:5060", 400, 0, False, T0),
    ]


def test_the_first_caller_claims_the_conference_and_the_others_follow_its_lease(store: Store) -> None:
    a, b = node(store, "a"), node(store, "b")
    a.heartbeat(0)
    b.heartbeat(0)
    assert a.lease(7) is None
    assert claimed(a.place(7)) == ("a", 1, True)
    assert a.lease(7) == Lease(7, "a", 1, T0 + 6 * SECOND)
    store.clock.advance(SECOND)
    followed = b.place(7)  # answered on b: relayed to a, the lease unchanged
    assert claimed(followed) == ("a", 1, False) and followed is not None and followed.relayed_from("b")
    assert b.lease(7) == Lease(7, "a", 1, T0 + 6 * SECOND)
    assert in_flight(a) == {"a": 2, "b": 0}


def test_a_full_node_hands_the_claim_on_and_placements_in_flight_count_until_joined_or_expired(
    store: Store,
) -> None:
    a, b, c = node(store, "a", seats=1), node(store, "b", seats=2), node(store, "c", seats=2)
    a.heartbeat(1)  # a is full
    b.heartbeat(0)
    c.heartbeat(0)
    first = a.place(1)
    assert claimed(first) == ("b", 1, True)  # b and c equally empty: by name
    assert claimed(a.place(2)) == ("c", 1, True)  # b has one caller in flight now
    assert in_flight(a) == {"a": 0, "b": 1, "c": 1}
    assert first is not None and first.placement_id is not None
    b.arrived(first.placement_id)  # joined: b's members figure counts it from its next beat
    assert in_flight(a) == {"a": 0, "b": 0, "c": 1}
    assert claimed(a.place(3)) == ("b", 1, True)
    for _ in range(3):  # 30 s on, every node beating
        store.clock.advance(10 * SECOND)
        for n, members in ((a, 1), (b, 0), (c, 0)):
            n.heartbeat(members)
    assert in_flight(a) == {"a": 0, "b": 0, "c": 0}  # never joined: gone after 30 s


def test_a_node_holding_a_big_booked_conference_does_not_get_the_next_claim(
    store: Store, service: BookingService
) -> None:
    big, small, later = (service.book(None, None, seats).id or 0 for seats in (20, 4, 4))
    a, b = node(store, "a", seats=40), node(store, "b", seats=40)
    a.heartbeat(0)
    b.heartbeat(0)
    assert claimed(a.place(big)) == ("a", 1, True)  # both empty: the answering node keeps it
    assert {n.name: (n.load, n.booked) for n in a.nodes()} == {"a": (1, 20), "b": (0, 0)}
    # one of the 20 is on a so far, but a expects 20 + 4 of 40 seats (60 %), b 4 (10 %)
    assert claimed(a.place(small)) == ("b", 1, True)
    assert claimed(b.place(big)) == ("a", 1, False)  # the lease still wins for the big one's members
    a.release(big, 1)  # emptied: its booked seats no longer count on a
    assert {n.name: n.booked for n in a.nodes()} == {"a": 0, "b": 4}
    assert claimed(a.place(later)) == ("a", 1, True)


def test_a_lease_lost_to_a_newer_epoch_is_reported_to_its_old_holder(store: Store) -> None:
    a, b = node(store, "a"), node(store, "b")
    a.heartbeat(0)
    b.heartbeat(0)
    assert claimed(a.place(7)) == ("a", 1, True)
    store.clock.advance(4 * SECOND)
    a.heartbeat(1)
    b.heartbeat(0)
    assert a.renew({7: 1}) == set()
    assert a.lease(7) == Lease(7, "a", 1, T0 + 10 * SECOND)
    store.clock.advance(7 * SECOND)  # a partitioned away: its lease expired, its beat is stale
    b.heartbeat(0)
    assert claimed(b.place(7)) == ("b", 2, True)
    a.heartbeat(1)  # a is back and renews with the epoch it had
    assert a.renew({7: 1, 8: 1}) == {7, 8}  # superseded; 8 it never held
    assert b.renew({7: 2}) == set()
    a.release(7, 1)  # the old holder's release drops nothing
    assert b.lease(7) == Lease(7, "b", 2, store.clock.now() + 6 * SECOND)
    b.release(7, 2)
    assert b.lease(7) is None and b.renew({7: 2}) == {7}
    assert claimed(a.place(7)) == ("a", 3, True)  # the epoch never goes back


@pytest.mark.parametrize("released", [False, True], ids=["new", "released"])
def test_placements_racing_for_a_conference_nobody_holds_claim_it_once(store: Store, released: bool) -> None:
    """Eight callers of a conference nobody holds (new, or released: its lease row vacant)
    answered on two nodes at once, each placement on its own connection: one claims it, all are
    sent to the same node (on PostgreSQL the vacant lease's insert and its FOR UPDATE make them
    take turns; on SQLite the writers do)."""
    engine = make_engine(store.url)
    try:
        nodes = [node(store, name, uow=SqlUnitOfWork(engine)) for name in ("a", "b")]
        for n in nodes:
            n.heartbeat(0)
        for reservation in (11, 12, 13):
            epoch = 1
            if released:
                nodes[0].place(reservation)
                nodes[0].release(reservation, 1)
                epoch = 2
            placed = race(nodes, reservation)
            assert [claimed(p)[2] for p in placed].count(True) == 1, placed
            assert len({(p.node, p.epoch) for p in placed if p is not None}) == 1, placed
            lease = nodes[0].lease(reservation)
            assert lease is not None and lease.epoch == epoch, (lease, placed)
            assert {p.node for p in placed if p is not None} == {lease.node}
    finally:
        engine.dispose()


def race(nodes: list[PlacementService], reservation: int, calls: int = 8) -> list[Placement | None]:
    """``calls`` threads, on the nodes in turn, place ``reservation`` at once."""
    start = threading.Barrier(calls)
    placed: list[Placement | None] = []

    def call(k: int) -> None:
        start.wait()
        placed.append(nodes[k % len(nodes)].place(reservation))

    threads = [threading.Thread(target=call, args=(k,)) for k in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(placed) == calls
    return placed


def test_each_controller_reconciles_its_own_nodes_legs_and_seats_only(
    store: Store, service: BookingService
) -> None:
    room = service.book(None, None, 5)
    number, rid = room.room.conference_number, room.id or 0
    legs = {n: UsageService(store.uow, store.clock, BookingSettings(), node=n) for n in ("a", "b")}
    seats = {
        n: LiveSeats(store.uow, store.clock, BookingSettings(system_capacity=10), node=n) for n in ("a", "b")
    }
    for n in ("a", "b"):
        assert legs[n].record_join(f"{n}.1", number, "+420221000111", moderator=False)
        assert seats[n].hold(rid, f"{n}.1")
    assert legs["a"].reconcile([]) == (1, 0)  # a's Asterisk has nobody: a's leg only
    assert seats["a"].reconcile(set()) == 1
    assert legs["a"].open_legs() == {}
    assert list(legs["b"].open_legs()) == ["b.1"] and legs["b"].open_legs()["b.1"].node == "b"
    assert seats["a"].holders() == set() and seats["b"].holders() == {"b.1"}
    single = UsageService(store.uow, store.clock, BookingSettings())  # a single node's ('')
    assert single.open_legs() == {} and single.reconcile([]) == (0, 0)
    assert list(legs["b"].open_legs()) == ["b.1"]


def test_a_dead_nodes_legs_close_at_its_last_heartbeat_and_its_session_report_is_queued(
    store: Store, service: BookingService
) -> None:
    room = service.book(None, None, 5)
    number, rid = room.room.conference_number, room.id or 0
    billing = BillingService(store.uow, store.clock, UTC_ZONE)
    billing.set_mail_settings(room.room.profile_id, "boss@acme.example", reports=True)
    reports = SessionReports(store.uow, billing, "dialconf", UTC_ZONE)
    a, b = node(store, "a", hook=reports.queue), node(store, "b")
    usage_b = UsageService(store.uow, store.clock, BookingSettings(), node="b")
    seats_b = live_seats(store, 10, "b")
    b.heartbeat(0)
    assert claimed(b.place(rid)) == ("b", 1, True)
    usage_b.record_join("b.1", number, "+420221000111", False, session_id="bridge-1")
    assert seats_b.hold(rid, "b.1")
    store.clock.advance(2 * SECOND)
    b.heartbeat(1)  # b's last word
    store.clock.advance(SECOND)
    usage_b.record_join("b.2", number, "+420221000112", False, session_id="bridge-1")  # after it
    store.clock.advance(3 * SECOND)
    a.heartbeat(0)
    assert a.close_dead_node("b") == 0  # b beat 4 s ago: alive, nothing closed
    store.clock.advance(5 * SECOND)
    a.heartbeat(0)
    assert a.dead_nodes() == ["b"]
    assert a.close_dead_node("b") == 2
    closed = {g.uniqueid: g for g in usage_b.history(room.room.profile_id, rid)}
    assert closed["b.1"].left_at == T0 + 2 * SECOND and closed["b.1"].end_reason is EndReason.NODE_LOST
    assert closed["b.2"].left_at == T0 + 3 * SECOND  # joined after the last heartbeat: at its join
    assert seats_b.holders() == set() and a.lease(rid) is None
    with store.uow(read_only=True) as tx:
        assert [m.kind for m in tx.messages.outbox("boss@acme.example")] == [Kind.REPORT]
    assert a.close_dead_node("b") == 0  # idempotent
    assert a.close_dead_node("a") == 0  # never itself
    with store.uow(read_only=True) as tx:
        assert [m.kind for m in tx.messages.outbox("boss@acme.example")] == [Kind.REPORT]
    assert claimed(a.place(rid)) == ("a", 2, True)


def test_the_seat_capacity_counts_the_seats_of_every_node(store: Store, service: BookingService) -> None:
    room = service.book(None, None, 5)
    rid = room.id or 0
    seats = {
        n: LiveSeats(store.uow, store.clock, BookingSettings(system_capacity=2), node=n) for n in ("a", "b")
    }
    assert seats["a"].hold(rid, "a.1") and seats["b"].hold(rid, "b.1")
    assert not seats["a"].hold(rid, "a.2")  # one seat on each node: the system is full
    assert seats["a"].held() == seats["b"].held() == 2
    seats["b"].release(["b.1"])
    assert seats["a"].hold(rid, "a.2")
