"""The SIP front (issue 21 item 1): real Kamailio on loopback in front of SIPp UAS standing in
for media nodes, called by SIPp through it. Calls alternate between the nodes, a node's 5xx or
silence sends the call on to the next one, a killed node is probed inactive and stops getting
calls, and comes back when it answers again; with no node left a call gets 503.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from conference_ivr.cluster.kamailio import DestinationState, Kamailio, NodeState
from conference_ivr.cluster_settings import KamailioSettings
from conference_ivr.errors import KamailioError
from tests.support.poll import until
from tests.support.ports import free_ports
from tests.support.sip_front import address, running_front
from tests.support.sipp_nodes import Node, call, received_settled, running_nodes


def _nodes(workdir: Path, *answers: int) -> list[Node]:
    ports = free_ports(2 * len(answers), socket.SOCK_DGRAM)
    return [Node(workdir, ports[2 * i], ports[2 * i + 1], answer) for i, answer in enumerate(answers)]


async def _calls(front: Kamailio, workdir: Path, count: int, expect: int = 200) -> None:
    """``count`` calls one after another, each ending as ``expect`` says."""
    for _ in range(count):
        sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
        result = await call(workdir, address(front), sip_port, media_port, expect=expect)
        assert result.returncode == 0, result.output[-2000:]


async def _state_of(front: Kamailio, node: Node, wanted: DestinationState, timeout: float) -> NodeState:
    def reached() -> NodeState | None:
        state = next(s for s in front.node_states() if s.uri == node.uri)
        return state if state.state is wanted else None

    return await until(reached, timeout=timeout, what=f"{node.uri} {wanted}", blocking=True)


def _probe_deadline(front: Kamailio) -> float:
    """How long a node may take to change state: threshold probes, each with its timeout."""
    s = front.settings
    most = max(s.probing_threshold, s.inactive_threshold)
    return (most + 1) * (s.ping_interval_s + s.fr_timer_ms / 1000) + 2


async def test_calls_alternate_between_the_nodes(tmp_path: Path) -> None:
    async with (
        running_nodes(_nodes(tmp_path, 200, 200)) as nodes,
        running_front([n.uri for n in nodes], tmp_path) as front,
    ):
        for node in nodes:
            await _state_of(front, node, DestinationState.ACTIVE, _probe_deadline(front))
        await _calls(front, tmp_path, 6)
        assert await received_settled(nodes, 6) == [3, 3]
        # Each caller's BYE reached the node that answered: it went through the front
        # along the Record-Route (the caller got the node's 200 for it).
        assert await received_settled(nodes, 6, "BYE") == [3, 3]


async def test_a_node_answering_503_passes_the_call_to_the_next(tmp_path: Path) -> None:
    async with running_nodes(_nodes(tmp_path, 503, 200)) as nodes:
        refusing, answering = nodes
        async with running_front([n.uri for n in nodes], tmp_path) as front:
            await _calls(front, tmp_path, 4)
            # Round robin offers every other call to the refusing node first; every call is
            # answered by the other one, and the refusal is not held against the node.
            assert await received_settled([answering], 4) == [4]
            assert refusing.received() == 2
            assert (await _state_of(front, refusing, DestinationState.ACTIVE, 1)).probing


async def test_a_silent_node_times_out_and_the_next_answers(tmp_path: Path) -> None:
    # A node that takes packets and never answers; no probe runs within the test (30 s).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent_uri = f"sip:127.0.0.1:{silent.getsockname()[1]}"
        async with (
            running_nodes(_nodes(tmp_path, 200)) as (answering,),
            running_front(
                [silent_uri, answering.uri], tmp_path, ping_interval_s=30, probing_threshold=1
            ) as front,
        ):
            await _calls(front, tmp_path, 2)
            assert await received_settled([answering], 2) == [2]
            # The timeout counted against the silent node: one failure makes it inactive here.
            states = {s.uri: s for s in front.node_states()}
            assert states[silent_uri].state is DestinationState.INACTIVE
            assert states[silent_uri].probing


async def test_a_killed_node_stops_getting_calls_and_comes_back(tmp_path: Path) -> None:
    async with running_nodes(_nodes(tmp_path, 200, 200)) as nodes:
        dying, survivor = nodes
        async with running_front([n.uri for n in nodes], tmp_path) as front:
            deadline = _probe_deadline(front)
            for node in nodes:
                await _state_of(front, node, DestinationState.ACTIVE, deadline)
            await dying.stop()
            assert (await _state_of(front, dying, DestinationState.INACTIVE, deadline)).probing
            await _calls(front, tmp_path, 4)
            assert await received_settled([survivor], 4) == [4]
            assert dying.received() == 0

            await dying.start()
            await _state_of(front, dying, DestinationState.ACTIVE, deadline)
            await _calls(front, tmp_path, 2)
            assert await received_settled(nodes, 6) == [1, 5]


async def test_no_node_answering_gets_503(tmp_path: Path) -> None:
    (nobody,) = free_ports(1, socket.SOCK_DGRAM)  # nothing listens there
    dead = Node(tmp_path, nobody, 0)
    async with running_front([dead.uri], tmp_path) as front:
        await _state_of(front, dead, DestinationState.INACTIVE, _probe_deadline(front))
        await _calls(front, tmp_path, 1, expect=503)


async def test_a_dead_nodes_call_is_ended_by_the_dialog_keepalives(tmp_path: Path) -> None:
    # The carrier's leg of a call on a node that died would stay up (no BYE from a dead node):
    # the front's in-dialog OPTIONS go unanswered, and it sends the caller a BYE itself.
    async with (
        running_nodes(_nodes(tmp_path, 200)) as (node,),
        running_front([node.uri], tmp_path, ka_timer_s=1) as front,
    ):
        s = front.settings
        # ka_interval_s, then the lifetime the module gives a failed keepalive (10 s).
        ended_within = s.ka_interval_s + s.ka_timer_s + 10 + s.fr_timer_ms / 1000 + 10
        sip_port, media_port = free_ports(2, socket.SOCK_DGRAM)
        held = asyncio.create_task(
            call(tmp_path, address(front), sip_port, media_port, held=True, timeout=ended_within)
        )
        try:
            await until(lambda: node.received("ACK") >= 1, timeout=5, what="the call answered")
            await node.stop()
            started = asyncio.get_running_loop().time()
            result = await held
        finally:
            await asyncio.wait([held])  # SIPp's own -timeout bounds it: never left running
        assert result.returncode == 0, result.output[-2000:]
        # Not before the keepalive interval: the BYE is the keepalives' doing.
        assert asyncio.get_running_loop().time() - started >= s.ka_interval_s - 1


async def test_a_setting_a_module_refuses_fails_the_start_in_kamailios_words(tmp_path: Path) -> None:
    # `kamailio -c` does not run the modules' own checks; start() reports them when it exits.
    settings = KamailioSettings().model_dump() | {"ka_interval_s": 20}
    front = Kamailio(KamailioSettings.model_construct(**settings))
    front.render(["sip:127.0.0.1:9"], Path(tempfile.mkdtemp(prefix="dialconf-kam-")))
    try:
        with pytest.raises(KamailioError, match="ka interval too low"):
            await asyncio.to_thread(front.start)
    finally:
        front.stop()
        shutil.rmtree(front.config_file.parent, ignore_errors=True)
