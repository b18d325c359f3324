"""Rendering the Asterisk templates into an instance directory, and the AMI secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conference_ivr.pbx.confparse import parse_conf_file
from conference_ivr.pbx.instance import CONF_FILES, AsteriskInstance, render_template
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import AsteriskSettings, ControllerSettings, Settings

HOST = AsteriskInstall(root=None, version="22.10.1")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _instance(tmp_path: Path, **asterisk: object) -> AsteriskInstance:
    return AsteriskInstance(HOST, Settings(data_dir=tmp_path, asterisk=AsteriskSettings(**asterisk)))


def _binds(etc: Path) -> dict[str, list[str]]:
    """Every bind/bindaddr/media_address host in the rendered files, by file."""
    found: dict[str, list[str]] = {}
    for name in CONF_FILES:
        for section in parse_conf_file(etc / name).values():
            for key, value in section.entries:
                if key in {"bind", "bindaddr", "media_address"}:
                    found.setdefault(name, []).append(value.rsplit(":", 1)[0] if key == "bind" else value)
    return found


def test_render_template_fills_every_placeholder() -> None:
    text = "port = {{ami_port}}\nbind = {{host}}:{{ami_port}}\nliteral = {not} {{ {x} }}\n"
    assert render_template(text, {"ami_port": "15038", "host": "127.0.0.1"}) == (
        "port = 15038\nbind = 127.0.0.1:15038\nliteral = {not} {{ {x} }}\n"
    )


def test_render_template_names_an_unknown_placeholder() -> None:
    with pytest.raises(KeyError, match=r"\{\{nope\}\}"):
        render_template("a = {{known}}\nb = {{nope}}\n", {"known": "1"})


def test_render_writes_every_file_with_nothing_left_unfilled(tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    instance.render()
    etc = instance.host("etc")
    assert etc == (tmp_path / "asterisk" / "main" / "etc").resolve()
    for name in CONF_FILES:
        text = (etc / name).read_text()
        assert "{{" not in text and "}}" not in text, name
    for sub in ("run", "log", "spool", "db"):
        assert instance.host(sub).is_dir()
    directories = parse_conf_file(etc / "asterisk.conf")["directories"]
    assert directories.get("astetcdir") == str(etc)
    assert directories.get("astrundir") == str(instance.host("run"))


def test_manager_conf_is_private(tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    instance.render()
    assert _mode(instance.host("etc", "manager.conf")) == 0o600
    instance.render()  # a second render keeps it private
    assert _mode(instance.host("etc", "manager.conf")) == 0o600


def test_everything_binds_to_loopback_by_default(tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    instance.render()
    binds = _binds(instance.host("etc"))
    assert set(binds) == {"manager.conf", "http.conf", "pjsip.conf"}
    assert {host for hosts in binds.values() for host in hosts} == {"127.0.0.1"}
    user = parse_conf_file(instance.host("etc", "manager.conf"))["dialconf"]
    assert user.values("permit") == ["127.0.0.1/32"]
    assert user.get("deny") == "0.0.0.0/0.0.0.0"


def test_each_listener_binds_its_own_address_and_ports_follow_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        asterisk=AsteriskSettings(
            sip_bind_address="127.0.0.2",
            ami_bind_address="127.0.0.4",
            http_bind_address="127.0.0.5",
            ami_port=25038,
            ami_user="ctl",
            http_port=28088,
            sip_port=25060,
            rtp_start=30000,
            rtp_end=30100,
            instance="other",
        ),
        controller=ControllerSettings(bind_address="127.0.0.3", agi_port=24573),
    )
    instance = AsteriskInstance(HOST, settings)
    instance.render()
    etc = instance.host("etc")
    assert "/other/" in str(etc)
    assert _binds(etc) == {
        # the UDP transport, both media addresses; the browsers' ws transport rides on HTTP
        "pjsip.conf": ["127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.5"],
        "manager.conf": ["127.0.0.4"],
        "http.conf": ["127.0.0.5"],
    }
    manager = parse_conf_file(etc / "manager.conf")
    assert manager["general"].get("port") == "25038"
    assert manager["ctl"].values("permit") == ["127.0.0.4/32"]  # the address the controller uses
    assert parse_conf_file(etc / "http.conf")["general"].get("bindport") == "28088"
    assert parse_conf_file(etc / "pjsip.conf")["transport-udp"].get("bind") == "127.0.0.2:25060"
    rtp = parse_conf_file(etc / "rtp.conf")["general"]
    assert (rtp.get("rtpstart"), rtp.get("rtpend")) == ("30000", "30100")
    globals_ = parse_conf_file(etc / "extensions.conf")["globals"]
    assert globals_.get("DIALCONF_AGI") == "agi://127.0.0.3:24573"
    assert settings.asterisk.ami_host == "127.0.0.4"


def test_sip_open_to_the_network_keeps_ami_and_http_on_loopback(tmp_path: Path) -> None:
    """The README's advice for softphones elsewhere: SIP on every interface, nothing else."""
    instance = _instance(tmp_path, sip_bind_address="0.0.0.0", media_address="192.0.2.10")
    instance.render()
    binds = _binds(instance.host("etc"))
    assert binds["pjsip.conf"] == ["0.0.0.0", "192.0.2.10", "192.0.2.10", "127.0.0.1"]
    assert binds["manager.conf"] == ["127.0.0.1"] and binds["http.conf"] == ["127.0.0.1"]


def test_a_wildcard_sip_bind_needs_a_media_address() -> None:
    with pytest.raises(ValueError, match="MEDIA_ADDRESS"):
        AsteriskSettings(sip_bind_address="0.0.0.0")


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.7", "::", "ami.example.net"])
def test_ami_beyond_loopback_is_refused_without_the_opt_in(address: str) -> None:
    with pytest.raises(ValueError, match="ALLOW_REMOTE_AMI"):
        AsteriskSettings(ami_bind_address=address)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.9", "::1", "localhost"])
def test_ami_on_any_loopback_address_needs_no_opt_in(address: str) -> None:
    assert AsteriskSettings(ami_bind_address=address).ami_bind_address == address


def test_a_remote_ami_with_the_opt_in_permits_only_the_listed_networks(tmp_path: Path) -> None:
    instance = _instance(
        tmp_path,
        ami_bind_address="0.0.0.0",
        allow_remote_ami=True,
        ami_permit=["10.0.0.5/32", "127.0.0.1/32"],
    )
    instance.render()
    manager = parse_conf_file(instance.host("etc", "manager.conf"))
    assert manager["general"].get("bindaddr") == "0.0.0.0"
    assert manager["dialconf"].values("permit") == ["10.0.0.5/32", "127.0.0.1/32"]
    assert instance.settings.asterisk.ami_host == "127.0.0.1"  # the controller stays local
    # Opted in but no networks listed: only the controller's own connection is permitted.
    wildcard = AsteriskSettings(ami_bind_address="0.0.0.0", allow_remote_ami=True)
    assert wildcard.ami_permits == ["127.0.0.1/32"]


def test_a_bad_ami_permit_is_refused() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        AsteriskSettings(ami_permit=["the office"])


def test_ami_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    first = instance.ami_secret()
    secret_file = instance.host("ami.secret")
    assert secret_file.is_file()
    assert _mode(secret_file) == 0o600
    assert len(first) >= 24
    assert instance.ami_secret() == first
    assert _instance(tmp_path).ami_secret() == first  # a new object for the same instance
    assert _instance(tmp_path, instance="second").ami_secret() != first


def test_rendered_manager_conf_carries_the_secret(tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    instance.render()
    user = parse_conf_file(instance.host("etc", "manager.conf"))["dialconf"]
    assert user.get("secret") == instance.ami_secret()


def test_explicit_secret_wins_and_no_file_is_written(tmp_path: Path) -> None:
    instance = _instance(tmp_path, ami_secret="from-settings")
    assert instance.ami_secret() == "from-settings"
    instance.render()
    user = parse_conf_file(instance.host("etc", "manager.conf"))["dialconf"]
    assert user.get("secret") == "from-settings"
    assert not instance.host("ami.secret").exists()


def test_chroot_instance_uses_inner_paths(tmp_path: Path) -> None:
    root = tmp_path / "root"
    instance = AsteriskInstance(AsteriskInstall(root, "22.10.1"), Settings(data_dir=tmp_path / "data"))
    values = instance.values()
    assert values["etc_dir"] == "/var/lib/dialconf/main/etc"
    assert values["run_user"] == "root"
    assert instance.host("etc") == root / "var/lib/dialconf/main/etc"
    assert instance.asterisk_cmd("-rx", "core waitfullybooted") == [
        "chroot",
        str(root),
        "asterisk",
        "-C",
        "/var/lib/dialconf/main/etc/asterisk.conf",
        "-rx",
        "core waitfullybooted",
    ]
