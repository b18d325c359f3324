"""Several media nodes on one machine (issue 21, `dialconf cluster up`): each node's settings
derived from the base settings, and the environment that hands them to a node's process.

Node ``i`` (1-based) is ``node<i>``: its SIP on its own loopback address ``127.0.1.<i>`` (the
other nodes identify it by address: pjsip identify), its other ports the base ones plus
``PORT_STEP * (i - 1)``, its share of the RTP range, its own Asterisk instance. They share the
data directory (the booking service's secrets, so a web session or a join link made on one
node holds on every node) and the store; only the first runs the messaging (SMS, e-mail, the
month end), so each message is sent once.
"""

from __future__ import annotations

import json
from pathlib import Path

from conference_ivr.settings import Settings

PORT_STEP = 100
NODE_NETWORK = "127.0.1."


def node_name(i: int) -> str:
    return f"node{i}"


def node_settings(
    base: Settings, count: int, database_url: str, secret_file: Path, network: str = NODE_NETWORK
) -> list[Settings]:
    """The settings of each of ``count`` nodes, in order; node i's SIP on ``network`` + i."""
    if not 1 <= count <= 9:
        raise ValueError(f"--nodes {count}: between 1 and 9 on one machine")
    a = base.asterisk
    sip = {node_name(i): f"{network}{i}:{a.sip_port}" for i in range(1, count + 1)}
    band = (a.rtp_end - a.rtp_start) // count
    nodes = []
    for i in range(1, count + 1):
        step = PORT_STEP * (i - 1)
        rtp_start = a.rtp_start + band * (i - 1)
        update = {
            "database_url": database_url,
            "asterisk": a.model_copy(
                update={
                    "instance": f"{a.instance}-{node_name(i)}",
                    "sip_bind_address": f"{network}{i}",
                    "media_address": f"{network}{i}",
                    "ami_port": a.ami_port + step,
                    "http_port": a.http_port + step,
                    "rtp_start": rtp_start,
                    "rtp_end": rtp_start + band - 2,
                }
            ),
            "controller": base.controller.model_copy(
                update={
                    "agi_port": base.controller.agi_port + step,
                    "metrics_port": base.controller.metrics_port + step,
                }
            ),
            "api": base.api.model_copy(update={"port": base.api.port + step}),
            "cluster": base.cluster.model_copy(
                update={"node": node_name(i), "nodes": sip, "secret_file": secret_file, "messaging": i == 1}
            ),
        }
        nodes.append(Settings.model_validate({**base.model_dump(), **_dumped(update)}))
    return nodes


def _dumped(update: dict[str, object]) -> dict[str, object]:
    return {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in update.items()}


def settings_environment(settings: Settings) -> dict[str, str]:
    """DIALCONF_* variables that give a `dialconf` process exactly ``settings``: each top-level
    setting as JSON (pydantic-settings parses a nested section from one JSON variable)."""
    env = {}
    for name, value in settings.model_dump(mode="json").items():
        key = f"DIALCONF_{name.upper()}"
        env[key] = value if isinstance(value, str) else json.dumps(value)
    return env
