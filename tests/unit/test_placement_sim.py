"""The placement simulation (bench/placement_*.py) at a tiny scale: a few nodes, a day or two.

Its invariants, whatever the figures: a conference's members are on one node at any time under
the placement rule, a claim never lands on a full node while another has room, the relayed
fraction is a fraction, nobody is left on (or waiting for) a node lost at the peak, the generated
month keeps the booking rules, and a seed gives the same run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench import placement_sim
from bench.placement_load import DAY_S, STANDARD_MAX_SEATS, Month, generate
from bench.placement_replay import Replay, Setup, replay
from bench.placement_report import summary

pytestmark = pytest.mark.unit

NODES, SEATS, PEAK = 4, 150, 300  # the peak fills half the seats


@pytest.fixture(scope="module")
def month() -> Month:
    return generate(seed=7, days=2, peak_members=PEAK)


def run(month: Month, variant: str, **kw: object) -> Replay:
    setup = Setup(nodes=NODES, seats=SEATS, kill_at=month.peak_at, seed=7)
    return replay(month, variant, replace(setup, **kw))  # type: ignore[arg-type]


def test_the_month_keeps_the_booking_rules_and_peaks_near_the_size_asked(month: Month) -> None:
    standard = ~month.non_standard
    length = month.conference_end - month.conference_start
    assert (month.conference_size[standard] <= STANDARD_MAX_SEATS).all()  # R3
    assert (length[standard] <= 120 * 60).all()  # R3, R10
    assert (month.conference_size[month.non_standard] > STANDARD_MAX_SEATS).any() or (
        length[month.non_standard] > 120 * 60
    ).any()
    booked = ~month.anytime
    clock = month.conference_start[booked] % DAY_S
    assert ((clock >= 8 * 3600) & (clock < 18 * 3600)).all()  # working hours
    on_the_half_hour = (clock % 1800 == 0).mean()
    assert on_the_half_hour > 0.6  # peaks on the hour and the half hour
    assert abs(month.peak_members - PEAK) <= 0.1 * PEAK
    assert (np.diff(month.member_arrival) >= 0).all()
    assert (month.member_leave > month.member_arrival).all()


def test_under_the_rule_a_conference_is_never_split_and_claims_avoid_full_nodes(month: Month) -> None:
    r = run(month, "rule")
    assert r.placements >= month.members  # every member placed (some twice, after the loss)
    assert r.split_conferences == set()
    assert r.full_node_claims == 0
    assert 0.0 < r.relayed / r.placements < 1.0
    assert r.claims + r.follows == r.placements
    assert all(mx <= SEATS for _, mx, _, _ in r.samples)  # capacity suffices: nobody over seats


def test_the_check_sees_a_split_when_members_stay_on_their_answering_node(month: Month) -> None:
    r = run(month, "answering_node")
    assert r.relayed == 0
    assert len(r.split_conferences) > 0  # what the rule's affinity avoids


def test_after_the_node_loss_nobody_is_left_on_it_or_waiting(month: Month) -> None:
    for variant in ("rule", "no_in_flight", "least_booked"):
        r = run(month, variant)
        assert r.kill["affected"] > 0  # type: ignore[operator]
        assert r.left_on_dead_node == 0
        assert r.still_waiting == 0
        assert r.kill["replaced"] + r.kill["gave_up"] == r.kill["affected"]  # type: ignore[operator]
        after: list[float] = r.kill["replaced_after_s"]  # type: ignore[assignment]
        # Placed again no sooner than a relaying node sees its Dial end, nor after the longest
        # redial (plus a retry's half second).
        assert min(after) >= 1.0 and max(after) <= 60.0 + 0.5
        assert summary(r, SEATS, 0.1)["split_conferences"] == 0
        live = r.samples[-1][3]
        assert live == NODES - 1


def test_the_same_seed_gives_the_same_run_and_another_seed_another(month: Month) -> None:
    a = summary(run(month, "rule"), SEATS, 0.1)
    b = summary(run(generate(seed=7, days=2, peak_members=PEAK), "rule"), SEATS, 0.1)
    assert a == b
    other = generate(seed=8, days=2, peak_members=PEAK)
    assert summary(run(other, "rule", kill_at=other.peak_at), SEATS, 0.1) != a


def test_the_benchmark_writes_its_results_plot_and_a_verdict_per_target(tmp_path: Path) -> None:
    argv = ["--days", "2", "--peak-members", "300", "--nodes", "4", "--seats", "150", "--out", str(tmp_path)]
    placement_sim.main(argv)
    (js,) = tmp_path.glob("placement-*.json")
    report = json.loads(js.read_text())
    assert js.with_suffix(".md").exists() and js.with_suffix(".png").stat().st_size > 0
    assert report["machine"]["nproc"] and set(report["runs"]) >= {"rule", "answering_node"}
    verdict = " ".join(report["verdict"])
    assert "target <= 1.2" in verdict and "conferences split over two nodes: 0" in verdict
    assert "left on the dead node: target 0 met" in verdict
