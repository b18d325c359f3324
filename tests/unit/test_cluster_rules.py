"""The cluster's pure parts (issue 21): relay tickets, the nodes' settings and environment, the
peers in pjsip.conf and the relay path in the dialplan, all agreeing with pbx.names."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from conference_ivr.cluster.ticket import (
    RelayTicket,
    TicketBook,
    TicketRefused,
    expiry,
    sign,
    unsealed,
    verify,
)
from conference_ivr.cluster.topology import node_settings, settings_environment
from conference_ivr.cluster_settings import ClusterSettings
from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import parse_conf, parse_conf_file
from conference_ivr.pbx.instance import TEMPLATE_DIR, AsteriskInstance
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import Settings

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
KEY = b"k" * 32


def _ticket(**changes: object) -> RelayTicket:
    fields: dict[str, object] = {
        "reservation_id": 7,
        "conference_number": "123456",
        "moderator": False,
        "caller_number": "+420601234567",
        "access_number": "8000",
        "language": "cs",
        "epoch": 3,
        "placement_id": 11,
        "from_node": "node1",
        "uniqueid": "1733.1",
        "expires_at": expiry(NOW, 30),
    }
    fields.update(changes)
    return RelayTicket(**fields)  # type: ignore[arg-type]


def test_a_signed_ticket_reads_back_whole() -> None:
    ticket = _ticket()
    assert verify(sign(ticket, KEY), KEY, NOW) == ticket


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t.replace(t.split(".")[0][:8], "AAAAAAAA", 1), "bad signature"),
        (lambda t: t.split(".")[0], "malformed"),
        (lambda t: "!!!." + t.split(".")[1], "malformed"),
        (lambda t: t + "x" * 5000, "malformed"),
    ],
)
def test_a_forged_or_broken_ticket_is_refused(mangle: object, reason: str) -> None:
    text = sign(_ticket(), KEY)
    with pytest.raises(TicketRefused, match=reason):
        verify(mangle(text), KEY, NOW)  # type: ignore[operator]


def test_a_ticket_signed_with_another_key_is_refused() -> None:
    with pytest.raises(TicketRefused, match="bad signature"):
        verify(sign(_ticket(), b"other" * 8), KEY, NOW)


def test_an_expired_ticket_is_refused_but_its_maker_still_reads_it() -> None:
    text = sign(_ticket(), KEY)
    later = NOW + timedelta(seconds=31)
    with pytest.raises(TicketRefused, match="expired"):
        verify(text, KEY, later)
    assert unsealed(text, KEY).reservation_id == 7


def test_a_ticket_is_admitted_once_and_a_rejoin_ticket_again() -> None:
    book = TicketBook()
    book.admit(_ticket(), NOW)
    with pytest.raises(TicketRefused, match="used"):
        book.admit(_ticket(), NOW)
    book.admit(_ticket(rejoins=1), NOW)
    book.admit(_ticket(), NOW + timedelta(seconds=31))  # forgotten once expired (and refused by verify)


def test_cluster_settings_name_this_node_among_the_nodes() -> None:
    with pytest.raises(ValidationError, match=r"not in cluster\.nodes"):
        ClusterSettings(node="node3", nodes={"node1": "127.0.1.1:5060"})
    with pytest.raises(ValidationError, match="host:port"):
        ClusterSettings(node="node1", nodes={"node1": "127.0.1.1"})
    with pytest.raises(ValidationError, match="half"):
        ClusterSettings(node="node1", nodes={"node1": "127.0.1.1:5060"}, renew_s=4, lease_ttl_s=6)
    c = ClusterSettings(node="node1", nodes={"node1": "127.0.1.1:5060", "node2": "127.0.1.2:5060"})
    assert c.enabled and c.peers() == {"node2": "127.0.1.2:5060"} and c.host_of("node2") == "127.0.1.2"
    assert not ClusterSettings().enabled


def test_each_node_gets_its_own_address_ports_and_rtp_and_the_environment_carries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = Settings(data_dir=tmp_path)
    nodes = node_settings(base, 3, "postgresql+psycopg://postgres@127.0.0.1:1/d", tmp_path / "c.secret")
    assert [n.cluster.node for n in nodes] == ["node1", "node2", "node3"]
    assert len({n.asterisk.sip_bind_address for n in nodes}) == 3
    assert len({n.asterisk.ami_port for n in nodes} | {n.api.port for n in nodes}) == 6
    bands = sorted((n.asterisk.rtp_start, n.asterisk.rtp_end) for n in nodes)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bands))
    assert [n.cluster.messaging for n in nodes] == [True, False, False]
    assert all(n.cluster.nodes == nodes[0].cluster.nodes for n in nodes)
    for key in [k for k in os.environ if k.startswith("DIALCONF_")]:
        monkeypatch.delenv(key)
    for key, value in settings_environment(nodes[1]).items():
        monkeypatch.setenv(key, value)
    assert Settings() == nodes[1]
    with pytest.raises(ValueError, match="between 1 and 9"):
        node_settings(base, 10, "x", tmp_path)


def test_every_other_node_is_a_peer_endpoint_identified_by_its_address(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path)
    node2 = node_settings(base, 3, "sqlite://", tmp_path / "c.secret")[1]
    instance = AsteriskInstance(AsteriskInstall(root=None, version="22"), node2)
    instance.render()
    sections = parse_conf(instance.host("etc", "pjsip.conf").read_text())
    peers = [s for s in sections if s.name.startswith("node-")]
    assert {s.name for s in peers} == {names.peer_endpoint("node1"), names.peer_endpoint("node3")}
    for s in peers:
        values = dict(s.entries)
        if values["type"] == "endpoint":
            assert values["context"] == names.CONTEXT_PEER and values["allow"] == "ulaw"
        if values["type"] == "identify":
            assert values["match"] == node2.cluster.host_of(s.name.removeprefix("node-"))
    single = AsteriskInstance(AsteriskInstall(root=None, version="22"), Settings(data_dir=tmp_path / "one"))
    single.render()
    assert "node-" not in single.host("etc", "pjsip.conf").read_text().replace("; one node", "")


def test_the_dialplan_relays_with_the_ticket_header_and_the_peer_context_runs_the_peer_route() -> None:
    conf = parse_conf_file(TEMPLATE_DIR / "extensions.conf")
    relay = " ".join(v for _, v in conf[names.CONTEXT_RELAY].entries)
    assert f"Dial(${{{names.VAR_RELAY}}}" in relay and names.CONTEXT_RELAY_OUT in relay
    assert f"/{names.AGI_ROUTE_REJOIN})" in relay
    out = " ".join(v for _, v in conf[names.CONTEXT_RELAY_OUT].entries)
    assert f"PJSIP_HEADER(add,{names.RELAY_HEADER})" in out
    peer = " ".join(v for _, v in conf[names.CONTEXT_PEER].entries)
    assert f"{names.RELAY_EXTEN},1" in peer and f"/{names.AGI_ROUTE_PEER})" in peer
    for context in (names.CONTEXT_IVR, names.CONTEXT_WEB, names.CONTEXT_DIALOUT):
        lines = " ".join(v for _, v in conf[context].entries)
        assert f'"{names.ACTION_RELAY}"]?{names.CONTEXT_RELAY},s,1' in lines


def test_relay_names_round_trip() -> None:
    assert names.parse_relay_dial(names.relay_dial("node2")) == "node2"
    assert names.parse_relay_dial("PJSIP/8000@dialconf-trunk") is None
    assert names.relay_channels("node-2") == r"/^PJSIP/node\-node\-2-/"
