"""The SIP front's config (asterisk/kamailio.cfg) as rendered from KamailioSettings: the
settings land where Kamailio reads them, ``kamailio -c`` accepts the result, and the
dispatcher's RPC answer is typed once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from conference_ivr.cluster.kamailio import (
    DestinationState,
    Kamailio,
    NodeState,
    module_path,
    parse_dispatcher_list,
)
from conference_ivr.cluster_settings import KamailioSettings
from conference_ivr.errors import KamailioError

NODES = ["sip:127.0.0.1:5201", "sip:127.0.0.1:5202"]


def _rendered(tmp_path: Path, **settings: int) -> tuple[Kamailio, str]:
    front = Kamailio(KamailioSettings(**settings))
    return front, front.render(NODES, tmp_path).read_text()


def test_the_rendered_config_holds_the_settings_and_kamailio_accepts_it(tmp_path: Path) -> None:
    front, cfg = _rendered(
        tmp_path, port=5091, ka_timer_s=5, ka_interval_s=45, ka_failed_limit=2, ping_interval_s=3,
        probing_threshold=2, inactive_threshold=3, fr_timer_ms=700,
    )  # fmt: skip
    for line in (
        "listen=udp:127.0.0.1:5091",
        'modparam("dialog", "ka_timer", 5)',
        'modparam("dialog", "ka_interval", 45)',
        'modparam("dialog", "ka_failed_limit", 2)',
        'modparam("dialog", "send_bye", 1)',
        'modparam("dispatcher", "ds_ping_interval", 3)',
        'modparam("dispatcher", "ds_probing_mode", 1)',
        'modparam("dispatcher", "ds_probing_threshold", 2)',
        'modparam("dispatcher", "ds_inactive_threshold", 3)',
        'modparam("tm", "fr_timer", 700)',
        f'modparam("jsonrpcs", "dgram_socket", "{front.rpc_socket}")',
        f'modparam("ctl", "binrpc", "unix:{front.ctl_socket}")',
    ):
        assert line in cfg.splitlines(), line
    # Both legs of every call are kept alive; the nodes are tried round robin, then in turn.
    for call in ('dlg_set_property("ka-src")', 'dlg_set_property("ka-dst")', 'ds_select_dst("1", "4")'):
        assert call in cfg
    assert "ds_next_dst()" in cfg
    assert not [m for m in ("rtpengine", "rtpproxy") if f'loadmodule "{m}.so"' in cfg]  # no media
    listing = (tmp_path / "dispatcher.list").read_text().splitlines()
    assert [line for line in listing if not line.startswith("#")] == [f"1 {uri} 0 0" for uri in NODES]
    front.check()


def test_kamailio_refuses_a_broken_config_in_its_own_words(tmp_path: Path) -> None:
    front, cfg = _rendered(tmp_path)
    front.config_file.write_text(cfg.replace("request_route {", "request_route {\n\tno_such_function();", 1))
    with pytest.raises(KamailioError, match=r"no_such_function|parse error"):
        front.check()


def test_the_module_path_is_the_one_kamailio_names(tmp_path: Path) -> None:
    path = Path(module_path("/usr/sbin/kamailio"))
    assert (path / "dispatcher.so").exists() and (path / "dialog.so").exists()
    _, cfg = _rendered(tmp_path)
    assert f'mpath="{path}"' in cfg


def test_the_dialog_module_refuses_keepalives_under_30_s() -> None:
    # Kamailio 5.6's dialog mod_init: "ka interval too low (...), has to be at least 30";
    # `kamailio -c` does not run mod_init, so the settings refuse it first.
    with pytest.raises(ValidationError, match="ka_interval_s"):
        KamailioSettings(ka_interval_s=29)


def test_render_refuses_what_kamailio_could_not_use(tmp_path: Path) -> None:
    front = Kamailio(KamailioSettings())
    with pytest.raises(KamailioError, match="at least one"):
        front.render([], tmp_path)
    with pytest.raises(KamailioError, match="sip:host:port"):
        front.render(["127.0.0.1:5060"], tmp_path)
    with pytest.raises(KamailioError, match="too long for a unix socket"):
        front.render(NODES, tmp_path / ("d" * 120))
    with pytest.raises(KamailioError, match="render"):
        front.start()


def test_dispatcher_list_is_typed_once() -> None:
    # As Kamailio 5.6 answers dispatcher.list over JSON-RPC (set 2 is not the media nodes).
    result = {
        "NRSETS": 2,
        "RECORDS": [
            {"SET": {"ID": 2, "TARGETS": [{"DEST": {"URI": "sip:10.0.0.9", "FLAGS": "AX", "PRIORITY": 0}}]}},
            {
                "SET": {
                    "ID": 1,
                    "TARGETS": [
                        {"DEST": {"URI": NODES[1], "FLAGS": "IP", "PRIORITY": 0}},
                        {"DEST": {"URI": NODES[0], "FLAGS": "AP", "PRIORITY": 0}},
                        {"DEST": {"URI": "sip:127.0.0.1:5203", "FLAGS": "TP", "PRIORITY": 0}},
                        {"DEST": {"URI": "sip:127.0.0.1:5204", "FLAGS": "DX", "PRIORITY": 0}},
                    ],
                }
            },
        ],
    }
    assert parse_dispatcher_list(result) == [
        NodeState(NODES[1], DestinationState.INACTIVE, probing=True),
        NodeState(NODES[0], DestinationState.ACTIVE, probing=True),
        NodeState("sip:127.0.0.1:5203", DestinationState.TRYING, probing=True),
        NodeState("sip:127.0.0.1:5204", DestinationState.DISABLED, probing=False),
    ]
    assert parse_dispatcher_list({"NRSETS": 0}) == []
