"""The browsers' path in Asterisk's files (issue 20) agrees with conference_ivr.pbx.names, and
the ws/wss choice and the media address follow the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import ConfSection, parse_conf, parse_conf_file
from conference_ivr.pbx.instance import TEMPLATE_DIR, AsteriskInstance
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import AsteriskSettings, Settings, WebRtcSettings

PHONE_JS = Path(__file__).resolve().parents[2] / "booking" / "web" / "js" / "dialconf-phone.js"


def _conf(name: str) -> dict[str, ConfSection]:
    return parse_conf_file(TEMPLATE_DIR / name)


def _sections(name: str, etc: Path | None = None) -> list[ConfSection]:
    return parse_conf(((etc or TEMPLATE_DIR) / name).read_text())


def _lines(context: str) -> list[str]:
    return [v for k, v in _conf("extensions.conf")[context].entries if k in {"exten", "same"}]


def _rendered(tmp_path: Path, **webrtc: str) -> Path:
    settings = Settings(data_dir=tmp_path, webrtc=WebRtcSettings(**webrtc))
    instance = AsteriskInstance(AsteriskInstall(root=None, version="22"), settings)
    instance.render()
    return instance.host("etc")


def test_the_web_header_picks_the_webrtc_endpoint_before_the_anonymous_one() -> None:
    sections = {(s.name, s.get("type")): s for s in _sections("pjsip.conf")}
    identify = sections[(names.WEBRTC_IDENTIFY, "identify")]
    assert identify.get("endpoint") == names.WEBRTC_ENDPOINT
    assert identify.get("match_header") == f"{names.WEB_HEADER}: {names.WEB_HEADER_VALUE}"
    order = sections[("global", "global")].get("endpoint_identifier_order") or ""
    assert order.split(",") == ["header", "ip", "username", "anonymous"]


def test_the_webrtc_endpoint() -> None:
    endpoint = {(s.name, s.get("type")): s for s in _sections("pjsip.conf")}[
        (names.WEBRTC_ENDPOINT, "endpoint")
    ]
    assert endpoint.get("context") == names.CONTEXT_WEB
    assert endpoint.get("webrtc") == "yes"
    assert endpoint.get("dtmf_mode") == "rfc4733"
    assert endpoint.get("allow") == "opus,ulaw"
    transports = {s.name: s for s in _sections("pjsip.conf") if s.get("type") == "transport"}
    assert transports[names.WS_TRANSPORT].get("protocol") == "ws"


def test_web_join_goes_to_the_web_route_and_access_numbers_to_the_ivr() -> None:
    contexts = _conf("extensions.conf")
    assert names.CONTEXT_WEB in contexts and names.CONTEXT_WEB_CALLER in contexts
    lines = _lines(names.CONTEXT_WEB)
    join = [line for line in lines if line.startswith(f"{names.WEB_JOIN_EXTEN},")]
    assert join and f"Set({names.VAR_AGI_SIGHUP}=no)" in join[0]
    (agi,) = [line for line in lines if "AGI(" in line]
    assert agi.endswith(f"AGI(${{{names.VAR_AGI_URL}}}/{names.AGI_ROUTE_WEB})")
    (call,) = [line for line in lines if "ConfBridge(" in line]
    args = call.split("ConfBridge(", 1)[1].rsplit(")", 1)[0].split(",")
    assert args == [f"${{{names.VAR_BRIDGE}}}", "", "", f"${{{names.VAR_MENU}}}"]
    # an access number: the phone callers' journey, with the client's address as caller number
    for pattern in ("_X.", "_+X."):
        assert f"{pattern},1,Set(__{names.VAR_ACCESS}=${{EXTEN}})" in lines
    assert f"n,Goto({names.CONTEXT_IVR},s,1)" in _lines(names.CONTEXT_WEB_CALLER)


def test_the_browsers_modules_are_loaded() -> None:
    loaded = {v.removesuffix(".so") for v in _conf("modules.conf")["modules"].values("load")}
    needed = {"res_http_websocket", "res_pjsip_transport_websocket", "res_srtp", "codec_opus_open_source"}
    assert needed | {"res_timing_timerfd", "res_pjsip_header_funcs", "res_format_attr_opus"} <= loaded


def test_the_phone_sends_the_header_the_identify_matches() -> None:
    js = PHONE_JS.read_text()
    assert f'"{names.WEB_HEADER}: {names.WEB_HEADER_VALUE}"' in js
    assert "iceServers: []" in js and 'transportType: "RFC2833"' in js


def test_ws_only_and_every_interface_by_default(tmp_path: Path) -> None:
    etc = _rendered(tmp_path)
    transports = [s.get("protocol") for s in _sections("pjsip.conf", etc) if s.get("type") == "transport"]
    assert transports == ["udp", "ws"]
    assert "tlsenable" not in (etc / "http.conf").read_text().replace("; no TLS", "")
    endpoint = [
        s for s in _sections("pjsip.conf", etc) if s.name == names.WEBRTC_ENDPOINT and s.get("webrtc")
    ]
    assert endpoint[0].get("media_address") is None


def test_a_certificate_adds_wss_and_the_tls_listener(tmp_path: Path) -> None:
    etc = _rendered(tmp_path, cert_file="/etc/ssl/conf.pem", key_file="/etc/ssl/conf.key", tls_port="8443")
    wss = [s for s in _sections("pjsip.conf", etc) if s.name == names.WSS_TRANSPORT]
    assert [s.get("protocol") for s in wss] == ["wss"]
    http = parse_conf_file(etc / "http.conf")["general"]
    assert http.get("tlsenable") == "yes"
    assert http.get("tlsbindaddr") == "127.0.0.1:8443"
    assert (http.get("tlscertfile"), http.get("tlsprivatekey")) == ("/etc/ssl/conf.pem", "/etc/ssl/conf.key")


def test_a_media_address_binds_the_browsers_rtp_to_it(tmp_path: Path) -> None:
    etc = _rendered(tmp_path, media_address="10.213.0.9")
    (endpoint,) = [
        s for s in _sections("pjsip.conf", etc) if s.name == names.WEBRTC_ENDPOINT and s.get("webrtc")
    ]
    assert endpoint.get("media_address") == "10.213.0.9"
    assert endpoint.get("bind_rtp_to_media_address") == "yes"


def test_the_pages_websocket_url() -> None:
    a = AsteriskSettings(http_port=18088)
    assert WebRtcSettings().page_url(a) == "ws://127.0.0.1:18088/ws"
    assert WebRtcSettings().page_url(AsteriskSettings(http_bind_address="::1")) == "ws://[::1]:18088/ws"
    tls = WebRtcSettings(cert_file="c.pem", key_file="k.pem", tls_bind_address="0.0.0.0", tls_port=8089)
    assert re.fullmatch(r"wss://127\.0\.0\.1:8089/ws", tls.page_url(a))
    proxied = WebRtcSettings(ws_url="wss://conf.example.org/ws")
    assert proxied.page_url(a) == "wss://conf.example.org/ws"
    assert names.WS_PATH == "/ws"


@pytest.mark.parametrize(
    "bad", [{"cert_file": "c.pem"}, {"key_file": "k.pem"}, {"ws_url": "https://conf.example.org/ws"}]
)
def test_bad_webrtc_settings_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        WebRtcSettings(**bad)
