"""Finding Asterisk without installing anything, and the errors when it cannot be found or built."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from conference_ivr.errors import ProvisioningError
from conference_ivr.pbx import provision
from conference_ivr.pbx.provision import AsteriskInstall, cached_root, locate, parse_version
from conference_ivr.settings import AsteriskSettings


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in these tests may run a real command."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"unexpected subprocess.run{args}")

    monkeypatch.setattr(subprocess, "run", refuse)


@pytest.fixture
def nothing_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Asterisk 22.10.1+dfsg+~cs6.17.60671434-1\n", (22, "22.10.1+dfsg+~cs6.17.60671434-1")),
        ("Asterisk 18.10.0~dfsg+~cs6.10.40431411-2\n", (18, "18.10.0~dfsg+~cs6.10.40431411-2")),
        ("Asterisk 20.6.0", (20, "20.6.0")),
        ("warning: something\nAsterisk 21.1.0\n", (21, "21.1.0")),
    ],
)
def test_parse_version_of_real_outputs(output: str, expected: tuple[int, str]) -> None:
    assert parse_version(output) == expected


@pytest.mark.parametrize("output", ["", "chroot: cannot run command 'asterisk'", "Asterisk"])
def test_parse_version_none_for_foreign_output(output: str) -> None:
    assert parse_version(output) is None


def test_find_installed_none_when_not_on_path(nothing_on_path: None, no_subprocess: None) -> None:
    assert provision.find_installed(20) is None


def test_find_installed_checks_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: "/usr/sbin/asterisk")
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (18, "18.10.0"))
    assert provision.find_installed(20) is None
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (22, "22.10.1"))
    assert provision.find_installed(20) == AsteriskInstall(None, "22.10.1")


def test_locate_explains_what_to_do(tmp_path: Path, nothing_on_path: None, no_subprocess: None) -> None:
    settings = AsteriskSettings(root_cache=tmp_path / "asterisk-root")
    with pytest.raises(ProvisioningError) as err:
        locate(settings)
    message = str(err.value)
    assert ">= 20" in message
    assert str(tmp_path / "asterisk-root") in message
    assert "dialconf asterisk provision" in message


def _ready_root(tmp_path: Path, packages: list[str]) -> Path:
    root = tmp_path / "asterisk-root"
    root.mkdir()
    (root / ".dialconf-ready").write_text("\n".join(packages) + "\n")
    return root


def test_cached_root_with_every_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AsteriskSettings(root_cache=tmp_path / "asterisk-root", packages=["asterisk", "sox"])
    root = _ready_root(tmp_path, ["asterisk", "sox", "asterisk-prompt-de"])
    seen: list[list[str]] = []

    def version(cmd: list[str]) -> tuple[int, str]:
        seen.append(cmd)
        return 22, "22.10.1"

    monkeypatch.setattr(provision, "_asterisk_version", version)
    assert cached_root(settings) == AsteriskInstall(root, "22.10.1")
    assert seen == [["chroot", str(root), "asterisk"]]


def test_cached_root_without_marker_or_with_old_asterisk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AsteriskSettings(root_cache=tmp_path / "asterisk-root", packages=["asterisk"])
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (22, "22.10.1"))
    assert cached_root(settings) is None
    _ready_root(tmp_path, ["asterisk"])
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (18, "18.10.0"))
    assert cached_root(settings) is None


def test_cached_root_missing_some_packages_is_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AsteriskSettings(root_cache=tmp_path / "asterisk-root", packages=["asterisk", "sox", "x"])
    _ready_root(tmp_path, ["asterisk"])
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (22, "22.10.1"))
    assert cached_root(settings) is None


def test_cached_root_marker_with_other_packages_is_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AsteriskSettings(
        root_cache=tmp_path / "asterisk-root", packages=["asterisk", "asterisk-prompt-de"]
    )
    _ready_root(tmp_path, ["asterisk", "sox"])  # asterisk-prompt-de was never installed
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (22, "22.10.1"))
    assert cached_root(settings) is None


def test_provision_refuses_to_build_without_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nothing_on_path: None, no_subprocess: None
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    built: list[object] = []
    monkeypatch.setattr(provision, "_build_root", built.append)
    settings = AsteriskSettings(root_cache=tmp_path / "cache" / "asterisk-root")
    with pytest.raises(ProvisioningError, match="needs root"):
        provision.provision(settings)
    assert built == []
    assert not settings.root_cache.exists()


def test_provision_uses_an_installed_asterisk_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provision, "find_installed", lambda _min: AsteriskInstall(None, "22.10.1"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    settings = AsteriskSettings(root_cache=tmp_path / "cache" / "asterisk-root")
    assert provision.provision(settings) == AsteriskInstall(None, "22.10.1")
    assert not (tmp_path / "cache").exists()


def test_ensure_debootstrap_without_apt_says_how_to_fix(nothing_on_path: None, no_subprocess: None) -> None:
    with pytest.raises(ProvisioningError, match="apt-get install debootstrap"):
        provision._ensure_debootstrap()


def test_ensure_debootstrap_present_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, no_subprocess: None
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/sbin/{name}")
    provision._ensure_debootstrap()


def test_run_reports_the_tail_of_a_failed_command(monkeypatch: pytest.MonkeyPatch) -> None:
    result = subprocess.CompletedProcess(["x"], 100, stdout="line1\n", stderr="E: Unable to locate package\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: result)
    with pytest.raises(ProvisioningError, match="Unable to locate package") as err:
        provision._run(["chroot", "/r", "apt-get", "install", "asterisk"])
    assert "(100)" in str(err.value)


def test_host_install_paths_are_host_paths() -> None:
    install = AsteriskInstall(root=None, version="22.10.1")
    assert install.command("-V") == ["asterisk", "-V"]
    assert install.host_path(PurePosixPath("/var/lib/dialconf/x")) == Path("/var/lib/dialconf/x")
    assert install.inner_path(Path("/tmp/x/etc")) == PurePosixPath("/tmp/x/etc")


def test_chroot_install_maps_paths_through_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "var/lib/dialconf").mkdir(parents=True)
    install = AsteriskInstall(root=root, version="22.10.1")
    assert install.command("-rx", "core show version") == [
        "chroot",
        str(root),
        "asterisk",
        "-rx",
        "core show version",
    ]
    inner = PurePosixPath("/var/lib/dialconf/main/etc")
    host = install.host_path(inner)
    assert host == root / "var/lib/dialconf/main/etc"
    assert install.inner_path(host) == inner
    with pytest.raises(ValueError):
        install.inner_path(tmp_path / "outside")
