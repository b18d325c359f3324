"""The placement simulation's replay: a month of members over N media nodes, event by event.

Each member is answered by the node Kamailio's dispatcher picks (round robin over the live
nodes), then placed by ``booking.domain.placement.place`` given the conference's lease, its
booked seats (its size) and every node's load (members + placements in flight: a placed caller
is in the IVR for a few seconds before joining) and booked seats (the sizes of the conferences
it holds; a conference's seats leave its node when it empties, as the product releases its
lease). The conference's lease is held while it has members and expires ``lease_ttl_s`` after it
empties. At ``kill_at`` one node dies: its own callers redial after a delay and are answered
elsewhere; callers relayed to it from a survivor are placed again by their answering node, which
can only move them once the dead node's lease and heartbeat have expired.

Variants of the same month for the baselines beside the figures: ``rule`` (the placement rule),
``first_caller`` (the rule before its claims weighed booked seats: the answering node claims
while it has room, bench/placement_first_caller.py), ``no_in_flight`` (the rule fed loads
without the placements in flight), ``answering_node`` (no affinity: every member stays where it
was answered) and ``least_filled`` (an alternative rule: a live lease wins, else the least-
filled live node claims, never the answering node by preference; ``least_filled_no_in_flight``
the same without the placements in flight) and ``least_booked`` (a live lease wins, else the
live node holding the fewest booked seats claims: the conferences' sizes as booked, not their
members so far).

Events run from a heap (joined, hang-up, re-placement, node loss); arrivals come from the
month's sorted arrays. A sample every ``sample_s`` records the live nodes' max and mean members.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from bench.placement_first_caller import first_caller_place
from bench.placement_load import Month
from booking.domain.placement import Lease, NodeLoad, place

VARIANTS = (
    "rule",
    "first_caller",
    "no_in_flight",
    "answering_node",
    "least_booked",
    "least_filled",
    "least_filled_no_in_flight",
)
EPOCH = datetime(2026, 11, 2)  # a Monday: the month's first midnight
HELD = datetime.max  # a lease its holder renews: live as long as the conference has members
JOINED, LEAVE, REPLACE, VIEW_DEAD = 0, 1, 2, 3


@dataclass(frozen=True)
class Setup:
    nodes: int = 50
    seats: int = 500
    lease_ttl_s: float = 6.0
    ivr_s: tuple[float, float] = (3.0, 8.0)  # placement to joined: the IVR's last seconds
    redial_s: tuple[float, float] = (10.0, 60.0)  # a dropped caller dials again after
    relay_detect_s: tuple[float, float] = (1.0, 3.0)  # a relaying node sees its Dial end after
    sample_s: float = 60.0
    kill_at: float | None = None  # seconds into the month
    window: tuple[float, float] | None = None  # only members arriving in [from, to)
    seed: int = 1
    claim_slack: float = 0.05  # the rule's (ClusterPlacementSettings.claim_slack)


@dataclass
class Replay:
    variant: str
    placements: int = 0
    relayed: int = 0
    claims: int = 0
    follows: int = 0
    over_seats_placements: int = 0  # placed on a node already at its seats
    full_node_claims: int = 0  # of those, claims while another live node had room (must be 0)
    still_waiting: int = 0  # callers never placed again by the end (must be 0)
    split_conferences: set[int] = field(default_factory=set)  # members on two nodes at once
    samples: list[tuple[float, int, float, int]] = field(default_factory=list)  # t, max, mean, live
    kill: dict[str, object] = field(default_factory=dict)
    left_on_dead_node: int = 0  # members still counted on the dead node at the end (must be 0)


# One event loop whose handlers share its state as closures: locals keep a few million events
# within seconds in CPython (a class's attribute lookups cost more on every event).
def replay(month: Month, variant: str, setup: Setup) -> Replay:  # noqa: PLR0915
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    out = Replay(variant)
    rng = np.random.default_rng(setup.seed + 1)
    n_nodes, seats, ttl = setup.nodes, setup.seats, setup.lease_ttl_s
    names = [f"node{i:02d}" for i in range(n_nodes)]
    members = [0] * n_nodes
    in_flight = [0] * n_nodes
    up = [True] * n_nodes  # really running (what Kamailio's probing sees)
    seen_alive = [True] * n_nodes  # the store's view: its heartbeat is recent
    counting = not variant.endswith("no_in_flight")
    policy = variant.removesuffix("_no_in_flight")
    size = month.conference_size.tolist()
    booked = [0] * n_nodes  # seats booked by the conferences a node holds (rule, least_booked)
    booked_on: dict[int, int] = {}  # conference -> the node its booked seats are counted on
    loads = [NodeLoad(names[i], seats, 0, 0, True) for i in range(n_nodes)]
    slack = setup.claim_slack

    def refresh(i: int) -> None:
        flying = in_flight[i] if counting else 0
        loads[i] = NodeLoad(names[i], seats, members[i], flying, seen_alive[i], booked[i])

    def book(c: int, node: int | None) -> None:
        """Conference ``c``'s booked seats move to ``node`` (a claim; None: it emptied)."""
        old = booked_on.pop(c, None)
        if old is not None:
            booked[old] -= size[c]
            if up[old]:  # a dead node stays as the store last heard of it
                refresh(old)
        if node is not None:
            booked_on[c] = node
            booked[node] += size[c]
            refresh(node)

    conf_of = month.member_conference.tolist()
    arrivals = month.member_arrival.tolist()
    leaves = month.member_leave.tolist()
    lo, hi = 0, len(arrivals)
    if setup.window is not None:
        lo, hi = (int(x) for x in np.searchsorted(month.member_arrival, setup.window))
    ivr = rng.uniform(*setup.ivr_s, len(arrivals)).tolist()
    # member -> (node it is placed on, node its call came in on, its joined event's number)
    placed: dict[int, tuple[int, int, int]] = {}
    joined: set[int] = set()
    retry_on: dict[int, int] = {}  # a member waiting to be placed again -> its answering node
    leases: dict[int, Lease] = {}
    on_node: dict[int, dict[int, int]] = {}  # conference -> node -> its members there
    rr = 0
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    if setup.kill_at is not None:
        heapq.heappush(heap, (setup.kill_at, -1, REPLACE, -1))  # member -1: the node loss itself
    waiting: dict[int, float] = {}  # affected member -> when it lost its node
    new_delayed: set[int] = set()  # callers after the loss held back by the dead node's lease
    replaced_after: list[float] = []
    dead = -1
    next_sample = (math.floor(arrivals[lo] / setup.sample_s) + 1) * setup.sample_s if hi > lo else math.inf

    def answer() -> int:
        nonlocal rr
        for _ in range(n_nodes):  # the dispatcher skips a node its probing found down
            i = rr % n_nodes
            rr += 1
            if up[i]:
                return i
        raise RuntimeError("no live node")

    def put(m: int, here: int, t: float) -> bool:
        """Place member ``m`` answered on ``here`` at ``t``; False: it must wait and retry."""
        nonlocal seq
        c = conf_of[m]
        if policy == "answering_node":
            node, claimed = here, c not in on_node
        elif policy in ("least_filled", "least_booked") and not _follows(leases.get(c), t):
            # The alternative rules: every claim on the least-filled (or least-booked) live node.
            live = [j for j in range(n_nodes) if seen_alive[j]]
            if policy == "least_filled":
                node = min(live, key=lambda j: (loads[j].fill, j))
            else:
                node = min(live, key=lambda j: (booked[j], j))
            if not up[node]:
                return False
            lease = leases.get(c)
            leases[c] = Lease(c, names[node], (lease.epoch if lease else 0) + 1, HELD)
            claimed = True
        else:
            lease = leases.get(c)
            now = EPOCH + timedelta(seconds=t)
            if policy == "first_caller":
                p = first_caller_place(c, lease, names[here], loads, now)
            else:
                p = place(c, lease, names[here], loads, now, size=size[c], slack=slack)
            if p is None:
                raise RuntimeError("no live node")
            node, claimed = int(p.node[4:]), p.claimed
            if not up[node]:  # the store still believes the dead holder: retry once it expires
                return False
            if claimed or lease is None or lease.expires_at != HELD:  # renewed while it has members
                leases[c] = Lease(c, p.node, p.epoch, HELD)
        if policy != "answering_node" and booked_on.get(c) != node:
            book(c, node)  # claimed, or a lease taken up again before it expired
        if members[node] + in_flight[node] >= seats:
            out.over_seats_placements += 1
            if claimed and any(up[j] and members[j] + in_flight[j] < seats for j in range(n_nodes)):
                out.full_node_claims += 1
        here_conf = on_node.setdefault(c, {})
        here_conf[node] = here_conf.get(node, 0) + 1
        if len(here_conf) > 1:
            out.split_conferences.add(c)
        in_flight[node] += 1
        refresh(node)
        seq += 1
        placed[m] = (node, here, seq)
        heapq.heappush(heap, (t + ivr[m], seq, JOINED, m))
        out.placements += 1
        out.relayed += node != here
        out.claims += claimed
        out.follows += not claimed
        return True

    def _follows(lease: Lease | None, t: float) -> bool:
        return (
            lease is not None
            and seen_alive[int(lease.node[4:])]
            and lease.live_at(EPOCH + timedelta(seconds=t))
        )

    def drop(m: int, t: float) -> int:
        """Member ``m`` is off its node (hung up, or its call was lost with a node): where it
        was answered."""
        node, here, _ = placed.pop(m)
        if node != dead:
            if m in joined:
                members[node] -= 1
            else:
                in_flight[node] -= 1
            refresh(node)
        joined.discard(m)
        c = conf_of[m]
        here_conf = on_node[c]
        here_conf[node] -= 1
        if not here_conf[node]:
            del here_conf[node]
            if not here_conf:
                del on_node[c]
                book(c, None)
                lease = leases.get(c)
                if lease is not None and lease.expires_at == HELD:  # silent: the renewals stop
                    leases[c] = Lease(c, lease.node, lease.epoch, EPOCH + timedelta(seconds=t + ttl))
        return here

    def lose_node(t: float) -> None:
        nonlocal dead, seq
        live = [i for i in range(n_nodes) if up[i]]
        dead = max(live, key=lambda i: (members[i], -i))  # the fullest node: the worst case
        up[dead] = False
        # Its own members, and the callers it answered and relayed to a survivor.
        hit = [m for m, (node, here, _) in placed.items() if dead in (node, here)]
        out.kill.update(at=t, node=names[dead], members_before=members[dead], affected=len(hit))
        redials = 0
        for m in hit:
            here = drop(m, t)
            redial = here == dead  # its carrier leg was on the dead node: the caller dials again
            retry_on[m] = here
            waiting[m] = t
            delay = rng.uniform(*(setup.redial_s if redial else setup.relay_detect_s))
            redials += redial
            seq += 1
            heapq.heappush(heap, (t + delay, seq, REPLACE, m * 2 + redial))
        # What was counted on the dead node is stale from now on: its heartbeat stops.
        members[dead] = in_flight[dead] = 0
        out.kill["redialling"] = redials
        seq += 1
        heapq.heappush(heap, (t + ttl, seq, VIEW_DEAD, dead))

    def sample(t: float) -> None:
        live = [members[i] for i in range(n_nodes) if up[i]]
        out.samples.append((t, max(live), sum(live) / len(live), len(live)))

    i = lo
    while i < hi or heap:
        t_arr = arrivals[i] if i < hi else math.inf
        t_evt = heap[0][0] if heap else math.inf
        t = min(t_arr, t_evt)
        while next_sample <= t:
            sample(next_sample)
            next_sample += setup.sample_s
        if t_arr <= t_evt:
            m = i
            i += 1
            here = answer()
            if not put(m, here, t):  # its conference's lease is on the dead node: wait for it
                new_delayed.add(m)
                retry_on[m] = here
                waiting[m] = t
                seq += 1
                heapq.heappush(heap, (t, seq, REPLACE, m * 2))
            seq += 1
            heapq.heappush(heap, (leaves[m], seq, LEAVE, m))
            continue
        _, seq_of, kind, x = heapq.heappop(heap)
        if kind == JOINED:
            m = x
            if m in placed and placed[m][2] == seq_of:
                node = placed[m][0]
                in_flight[node] -= 1
                members[node] += 1
                joined.add(m)
                refresh(node)
        elif kind == LEAVE:
            if x in placed:
                drop(x, t)
            if waiting.pop(x, None) is not None:  # hung up before it was placed again
                retry_on.pop(x)
                new_delayed.discard(x)
        elif kind == REPLACE and x < 0:
            lose_node(t)
        elif kind == REPLACE:
            m, redial = divmod(x, 2)
            if m not in waiting:
                continue
            here = answer() if redial else retry_on[m]
            if put(m, here, t):
                retry_on.pop(m)
                since = waiting.pop(m)
                if m in new_delayed:
                    new_delayed.discard(m)
                    out.kill["new_delayed"] = int(out.kill.get("new_delayed", 0)) + 1  # type: ignore[call-overload]
                else:
                    replaced_after.append(t - since)
            else:
                seq += 1
                heapq.heappush(heap, (max(t + 0.5, out.kill["at"] + ttl), seq, REPLACE, x))  # type: ignore[operator]
        elif kind == VIEW_DEAD:
            seen_alive[x] = False
            refresh(x)
    out.still_waiting = len(waiting)
    if out.kill:
        out.kill["replaced"] = len(replaced_after)
        out.kill["gave_up"] = out.kill["affected"] - len(replaced_after)  # type: ignore[operator]
        out.kill["replaced_after_s"] = sorted(replaced_after)
    out.left_on_dead_node = sum(1 for node, _, _ in placed.values() if node == dead) if dead >= 0 else 0
    return out
