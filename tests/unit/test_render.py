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
    assert user.get("permit") == "127.0.0.1/255.255.255.255"


def test_bind_address_and_ports_follow_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        asterisk=AsteriskSettings(
            bind_address="127.0.0.2",
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
    binds = _binds(etc)
    assert {host for hosts in binds.values() for host in hosts} == {"127.0.0.2"}
    manager = parse_conf_file(etc / "manager.conf")
    assert manager["general"].get("port") == "25038"
    assert manager["ctl"].get("permit") == "127.0.0.2/255.255.255.255"
    assert parse_conf_file(etc / "http.conf")["general"].get("bindport") == "28088"
    assert parse_conf_file(etc / "pjsip.conf")["transport-udp"].get("bind") == "127.0.0.2:25060"
    rtp = parse_conf_file(etc / "rtp.conf")["general"]
    assert (rtp.get("rtpstart"), rtp.get("rtpend")) == ("30000", "30100")
    globals_ = parse_conf_file(etc / "extensions.conf")["globals"]
    assert globals_.get("DIALCONF_AGI") == "agi://127.0.0.3:24573"


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
