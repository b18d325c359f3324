"""The cluster benchmark's pure parts (bench/cluster_trace.py, bench/cluster_report.py): following
a caller from the node that answered it to the node that mixes its conference, the CPU per
member less the idle rate, and the verdict's ratios. The benchmark itself runs a real cluster
in `make bench`."""

from __future__ import annotations

from typing import Any

import pytest

from bench.cluster_report import cpu_figures, ratios, verdict
from bench.cluster_trace import NodeTracer, follow, ms_per_member_s, summarise
from conference_ivr.ami.events import AmiEvent


def _feed(tracer: NodeTracer, name: str, channel: str, caller: str, **fields: str) -> None:
    tracer(AmiEvent(name, {"Channel": channel, "CallerIDNum": caller, **fields}))


def _answer(tracer: NodeTracer, channel: str, caller: str) -> None:
    _feed(tracer, "Newchannel", channel, caller)
    _feed(tracer, "Newstate", channel, caller, ChannelStateDesc="Up")


def test_a_relayed_caller_is_followed_to_its_join_on_the_hosting_node() -> None:
    a, b = NodeTracer("node1"), NodeTracer("node2")
    _answer(a, "PJSIP/sipp-00000001", "+4201")  # answered and mixed on node1
    _feed(a, "ConfbridgeJoin", "PJSIP/sipp-00000001", "+4201")
    _answer(b, "PJSIP/sipp-00000002", "+4202")  # answered on node2...
    _answer(b, "PJSIP/node-node1-00000003", "+4202")  # its leg out: no answer of a caller
    _answer(a, "PJSIP/node-node2-00000004", "n2")  # ...the leg in, before the ticket names it
    _feed(a, "ConfbridgeJoin", "PJSIP/node-node2-00000004", "+4202")  # ...joined on node1
    _answer(b, "PJSIP/sipp-00000005", "+4203")  # answered, never joined
    _feed(a, "ConfbridgeJoin", "CBAnn/conf-1", "+4202")  # an announcer is nobody

    followed = {f.caller: f for f in follow([a, b], {"+4201", "+4202", "+4203", "+4209"})}

    assert set(followed) == {"+4201", "+4202", "+4203"}  # +4209 was never answered
    assert (followed["+4201"].answered_on, followed["+4201"].joined_on) == ("node1", "node1")
    assert not followed["+4201"].relayed
    assert (followed["+4202"].answered_on, followed["+4202"].joined_on) == ("node2", "node1")
    assert followed["+4202"].relayed
    assert followed["+4202"].answer_to_joined_s is not None and followed["+4202"].answer_to_joined_s >= 0
    assert followed["+4203"].joined_on is None and not followed["+4203"].relayed
    s = summarise(list(followed.values()), expected=4)
    assert (s["answered"], s["joined"], s["failed"], s["relayed"]) == (3, 2, 2, 1)
    assert s["answered_on"] == {"node1": 1, "node2": 2}
    assert s["relayed_answer_to_joined_s"]["n"] == 1 and s["local_answer_to_joined_s"]["n"] == 1


def test_the_tracer_is_idle_once_every_channel_hung_up() -> None:
    t = NodeTracer("node1")
    _answer(t, "PJSIP/sipp-1", "+4201")
    _answer(t, "PJSIP/node-node2-2", "+4202")
    assert not t.idle.is_set()
    _feed(t, "Hangup", "PJSIP/sipp-1", "+4201")
    assert not t.idle.is_set() and t.up == {"PJSIP/node-node2-2"}
    _feed(t, "Hangup", "PJSIP/node-node2-2", "+4202")
    assert t.idle.is_set()


def test_cpu_per_member_is_the_window_less_the_idle_rate_shared_by_the_members() -> None:
    # 0.5 s over 10 s, idle 0.1 s over 5 s (0.2 s over 10 s): 0.3 s / 10 s / 20 members
    assert ms_per_member_s(0.5, 0.1, 10.0, 5.0, 20) == pytest.approx(1.5)
    assert ms_per_member_s(0.5, 0.1, 10.0, 5.0, 0) is None
    assert ms_per_member_s(0.5, 0.1, 10.0, 0.0, 20) is None


def _storm(name: str, p50: float, p99: float, failed: int = 0, relayed: int = 0) -> dict[str, Any]:
    return {
        "storm": name,
        "expected": 60,
        "failed": failed,
        "relayed": relayed,
        "answer_to_joined_s": {"n": 60, "p50": p50, "p90": p50, "p99": p99},
        "relayed_answer_to_joined_s": {"n": relayed, "p50": p50},
        "local_answer_to_joined_s": {"n": 60 - relayed, "p50": p50},
    }


CPU = {
    "window_s": 8.0,
    "members": 20,
    "ms_per_s": {"local_member_on_host": 1.0, "relayed_member_on_host": 1.5, "relayed_leg_on_relayer": 2.0},
}


def test_the_verdict_holds_the_cluster_to_the_single_node_and_wants_relays() -> None:
    single = _storm("single", 16.0, 18.0)
    assert ratios([single, _storm("cluster", 17.6, 19.8, relayed=30)]) == {"p50": 1.1, "p90": 1.1, "p99": 1.1}
    lines, ok = verdict([single, _storm("cluster", 17.6, 19.8, relayed=30)], CPU)
    assert ok and lines[-1] == "Verdict: targets met."
    assert "relayed 3.5" in lines[2] and "against local 1.0: 3.5x" in lines[2]
    assert not verdict([single, _storm("cluster", 17.7, 19.0, relayed=30)], CPU)[1]  # p50 1.106x
    assert not verdict([single, _storm("cluster", 16.0, 18.0, failed=1, relayed=30)], CPU)[1]
    assert not verdict([single, _storm("cluster", 16.0, 18.0, relayed=0)], CPU)[1]  # nobody relayed
    assert not verdict([single], CPU)[1]


def test_a_relayed_member_costs_its_leg_plus_its_mixing() -> None:
    assert cpu_figures(CPU) == {"local": 1.0, "relayed": 3.5, "relayed_leg": 2.0, "ratio": 3.5}
