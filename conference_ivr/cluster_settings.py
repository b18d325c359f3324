"""The cluster's settings (issue 21): this node's name, every node's SIP address, the leases,
and the SIP front's (Kamailio). Apart from conference_ivr/cluster so that settings.py and
pbx/instance.py can nest and read them without importing the cluster's code."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field, model_validator


class KamailioSettings(BaseModel):
    """The SIP front. Every duration is one Kamailio reads in whole seconds or milliseconds."""

    binary: str = "kamailio"
    bind_address: str = "127.0.0.1"
    port: int = Field(default=5080, ge=1, le=65535)
    # dispatcher: every node gets an OPTIONS every ping_interval_s; probing_threshold failed
    # ones make it inactive, inactive_threshold answered ones make it active again.
    ping_interval_s: int = Field(default=2, ge=1)
    probing_threshold: int = Field(default=1, ge=1)
    inactive_threshold: int = Field(default=1, ge=1)
    # tm: no reply at all within fr_timer_ms is a local timeout (the next node is tried, and
    # an OPTIONS probe counts as failed); after a provisional reply the INVITE has fr_inv_timer_ms.
    fr_timer_ms: int = Field(default=1000, ge=100)
    fr_inv_timer_ms: int = Field(default=40000, ge=1000)
    # dialog: the keepalive timer's step, the in-dialog OPTIONS interval (the module refuses
    # less than 30 s) and how many may fail before the dialog ends with a BYE to both legs.
    ka_timer_s: int = Field(default=10, ge=1)
    ka_interval_s: int = Field(default=30, ge=30)
    ka_failed_limit: int = Field(default=1, ge=1)
    # A dialog still up after this long is ended (send_bye): longer than any booked conference.
    dialog_timeout_s: int = Field(default=86400, ge=60)
    children: int = Field(default=2, ge=1)  # UDP worker processes
    shm_mb: int = Field(default=32, ge=8)
    pkg_mb: int = Field(default=8, ge=2)
    log_level: int = Field(default=1, ge=-5, le=3)  # kamailio's debug: 1 notice, 2 info, 3 debug
    start_timeout_s: float = Field(default=10.0, gt=0)
    stop_timeout_s: float = Field(default=5.0, gt=0)
    rpc_timeout_s: float = Field(default=2.0, gt=0)


_NODE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class ClusterSettings(BaseModel):
    """Empty ``node``: one machine, no placement, no relaying (the default)."""

    node: str = ""
    # Every media node's SIP address (host:port), this one's included: calls are relayed to a
    # node's address, and only these addresses reach the inter-node context (pjsip identify).
    nodes: dict[str, str] = Field(default_factory=dict)
    # The key relay tickets are signed with, shared by every node: a file (0600), created with a
    # random key when missing. None: <data_dir>/cluster.secret.
    secret_file: Path | None = None
    seats: int = Field(default=400, ge=1)  # members this node mixes (bench/results/media-*)
    lease_ttl_s: float = Field(default=6.0, gt=0)  # a conference's lease lapses this long unrenewed
    renew_s: float = Field(default=2.0, gt=0)  # heartbeat and lease renewal period
    node_dead_after_s: float = Field(default=6.0, gt=0)  # a node this long silent is dead
    in_flight_ttl_s: float = Field(default=30.0, gt=0)  # a placement counts this long, unjoined
    ticket_ttl_s: float = Field(default=30.0, gt=0)  # a relay ticket is accepted this long
    rejoin_tries: int = Field(default=2, ge=0)  # times a relayed caller is placed again
    # The answering node keeps a new conference while its expected fill is within this of the
    # least-filled node's (booking.domain.placement; bench/results/placement-*: 0.05).
    claim_slack: float = Field(default=0.05, ge=0, le=1)
    # Whether this node runs the messaging (the SMS gateway, the e-mail intake, the outbox, the
    # month end): one node of a cluster does, so each message is sent once.
    messaging: bool = True
    # `dialconf cluster up` with a SQLite database_url starts its own PostgreSQL on this port
    # (its files under <data_dir>/cluster/postgres).
    postgres_port: int = 15432
    # `dialconf cluster up` puts node i's SIP on this network's address i (127.0.1.1, ...).
    network: str = "127.0.1."
    # The SIP front `dialconf cluster up` starts in front of the nodes (callers dial it).
    kamailio: KamailioSettings = Field(default_factory=KamailioSettings)

    @model_validator(mode="after")
    def _node_is_listed(self) -> ClusterSettings:
        for name, address in self.nodes.items():
            if not _NODE_NAME.match(name):
                raise ValueError(f"cluster node name {name!r}: lower-case letters, digits and '-'")
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"cluster.nodes[{name!r}] = {address!r}: write host:port")
        if self.node and self.node not in self.nodes:
            raise ValueError(f"cluster.node {self.node!r} is not in cluster.nodes {sorted(self.nodes)}")
        if self.renew_s * 2 > self.lease_ttl_s:
            raise ValueError("cluster.renew_s must be at most half of cluster.lease_ttl_s")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.node)

    def peers(self) -> dict[str, str]:
        """The other nodes: name -> host:port."""
        return {n: a for n, a in self.nodes.items() if n != self.node}

    def host_of(self, node: str) -> str:
        return self.nodes[node].rpartition(":")[0]
