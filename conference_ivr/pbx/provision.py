"""Find or build the Asterisk this project runs.

An installed Asterisk >= ``min_version`` is used when present. Otherwise a Debian root is
built once with ``debootstrap --variant=minbase`` from the host's own apt mirror, Asterisk
is installed inside it, and the root is cached and reused (``settings.asterisk.root_cache``).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from conference_ivr.errors import ProvisioningError
from conference_ivr.pbx.aptsources import host_distribution, primary_mirror, read_host_sources
from conference_ivr.settings import AsteriskSettings

log = structlog.get_logger(__name__)

_VERSION = re.compile(r"Asterisk\s+(?P<major>\d+)\.(?P<rest>[\w.+~-]*)")
_READY = ".dialconf-ready"


@dataclass(frozen=True)
class AsteriskInstall:
    """Where the ``asterisk`` binary is and how its paths map onto the host."""

    root: Path | None  # None: installed on the host itself
    version: str

    def command(self, *args: str) -> list[str]:
        prefix = ["chroot", str(self.root)] if self.root else []
        return [*prefix, "asterisk", *args]

    def host_path(self, inner: PurePosixPath) -> Path:
        """The host path of a path as Asterisk sees it."""
        if self.root is None:
            return Path(inner)
        return self.root / inner.relative_to("/")

    def resolve(self, inner: PurePosixPath, _depth: int = 0) -> Path:
        """The host path of ``inner`` with symlinks followed as Asterisk would see them
        (an absolute link inside the root points inside the root)."""
        if self.root is None:
            return Path(inner).resolve()
        if _depth > 32:
            raise ProvisioningError(f"symlink loop at {inner}")
        current = PurePosixPath("/")
        for part in inner.relative_to("/").parts:
            candidate = current / part
            host = self.root / candidate.relative_to("/")
            if host.is_symlink():
                link = PurePosixPath(os.readlink(host))
                target = link if link.is_absolute() else PurePosixPath(os.path.normpath(current / link))
                candidate = self.inner_path(self.resolve(target, _depth + 1))
            current = candidate
        return self.root / current.relative_to("/")

    def inner_path(self, host: Path) -> PurePosixPath:
        if self.root is None:
            return PurePosixPath(host)
        return PurePosixPath("/") / host.resolve().relative_to(self.root.resolve())


def parse_version(output: str) -> tuple[int, str] | None:
    m = _VERSION.search(output)
    if not m:
        return None
    return int(m.group("major")), f"{m.group('major')}.{m.group('rest')}"


def _asterisk_version(cmd: list[str]) -> tuple[int, str] | None:
    try:
        out = subprocess.run([*cmd, "-V"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_version(out.stdout + out.stderr)


def find_installed(min_version: int) -> AsteriskInstall | None:
    if shutil.which("asterisk") is None:
        return None
    found = _asterisk_version(["asterisk"])
    if found and found[0] >= min_version:
        return AsteriskInstall(None, found[1])
    return None


def cached_root(settings: AsteriskSettings) -> AsteriskInstall | None:
    root = settings.root_cache
    marker = root / _READY
    if not marker.is_file() or not set(settings.packages) <= set(marker.read_text().split()):
        return None
    found = _asterisk_version(["chroot", str(root), "asterisk"])
    if found and found[0] >= settings.min_version:
        return AsteriskInstall(root, found[1])
    return None


def locate(settings: AsteriskSettings) -> AsteriskInstall:
    """The Asterisk to run, without installing anything."""
    install = find_installed(settings.min_version) or cached_root(settings)
    if install is None:
        raise ProvisioningError(
            f"no Asterisk >= {settings.min_version} installed and no cached root at "
            f"{settings.root_cache}: run `dialconf asterisk provision` (as root)"
        )
    return install


def provision(settings: AsteriskSettings) -> AsteriskInstall:
    """Return a usable Asterisk, building the cached root if needed. Idempotent."""
    install = find_installed(settings.min_version)
    if install:
        log.info("asterisk.installed", version=install.version)
        return install
    settings.root_cache.parent.mkdir(parents=True, exist_ok=True)
    with _lock(settings.root_cache.with_name(settings.root_cache.name + ".lock")):
        install = cached_root(settings)
        if install:
            log.info("asterisk.cached_root", root=str(settings.root_cache), version=install.version)
            return install
        _require_root()
        _ensure_debootstrap()
        if (settings.root_cache / "usr/bin/apt-get").exists():
            _install_packages(settings.root_cache, settings.packages)  # top up an older cache
        else:
            _build_root(settings)
        install = cached_root(settings)
        if install is None:
            raise ProvisioningError(f"built {settings.root_cache} but asterisk -V does not run in it")
        log.info("asterisk.root_built", root=str(settings.root_cache), version=install.version)
        return install


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise ProvisioningError(
            "building the Asterisk root needs root (debootstrap, chroot): run as root, "
            "or install Asterisk >= 20 yourself"
        )


def _ensure_debootstrap() -> None:
    if shutil.which("debootstrap"):
        return
    if shutil.which("apt-get"):
        log.info("asterisk.installing_debootstrap")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=False, env=env)
    if not shutil.which("debootstrap"):
        raise ProvisioningError(
            "debootstrap is missing and could not be installed: apt-get install debootstrap"
        )


def _build_root(settings: AsteriskSettings) -> None:
    mirror = primary_mirror(read_host_sources())
    if mirror is None:
        raise ProvisioningError("no apt mirror found in /etc/apt/sources.list{,.d}: cannot debootstrap")
    distro, codename = host_distribution()
    # Debian's newest Asterisk is in sid; an Ubuntu host builds its own release (universe).
    suite, components = (codename, "main,universe") if distro == "ubuntu" else (settings.suite, "main")
    partial = settings.root_cache.with_name(settings.root_cache.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log.info("asterisk.debootstrap", suite=suite, mirror=mirror.uri, target=str(settings.root_cache))
    _run(["debootstrap", "--variant=minbase", f"--components={components}", suite, str(partial), mirror.uri])
    # Services must not start inside the root while packages install.
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    _install_packages(partial, settings.packages)
    shutil.rmtree(settings.root_cache, ignore_errors=True)
    partial.rename(settings.root_cache)


def _install_packages(root: Path, packages: list[str]) -> None:
    resolv = Path("/etc/resolv.conf")
    if resolv.is_file():
        shutil.copyfile(resolv, root / "etc/resolv.conf")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    # The sid Release file is often past its Valid-Until date on mirrors.
    _run(["chroot", str(root), "apt-get", "-q", "-o", "Acquire::Check-Valid-Until=false", "update"], env)
    _run(
        ["chroot", str(root), "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        env,
    )
    _run(["chroot", str(root), "apt-get", "clean"], env)
    (root / _READY).write_text("\n".join(sorted(packages)) + "\n")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-15:])
        raise ProvisioningError(f"{' '.join(cmd[:4])} ... failed ({res.returncode}):\n{tail}")
