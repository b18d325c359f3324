"""The address a browser's call uses in tests: Asterisk never offers a loopback address as an
ICE candidate (and chromium gathers none from the loopback interface), so the test makes a
private address only this machine has, on a veth pair of its own, and removes it afterwards.

(`ip link add ... type dummy` is refused on the CI machines; veth pairs work. Never the
machine's own eth0 address: the media stays on interfaces the test made.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaAddress:
    interface: str
    address: str


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=10)


def _name_and_address(pid: int) -> tuple[str, str]:
    # One per test process (xdist workers run side by side): 10.213.x.y from the pid, a /32
    # (x and y in 1..254); the name fits the kernel's 15 characters with the peer's "p".
    n = pid % (254 * 254)
    return f"dcw{pid:x}"[:12], f"10.213.{n // 254 + 1}.{n % 254 + 1}"


@contextmanager
def media_address() -> Iterator[MediaAddress]:
    """A veth pair (both ends up, in this namespace) holding one private /32; removed after."""
    name, address = _name_and_address(os.getpid())
    _ip("link", "del", name, check=False)  # a crashed earlier run with the same pid
    _ip("link", "add", name, "type", "veth", "peer", "name", name + "p")
    try:
        for end in (name, name + "p"):
            # no IPv6 link-local addresses: the only candidate besides eth0's is ours
            subprocess.run(
                ["sysctl", "-qw", f"net.ipv6.conf.{end}.disable_ipv6=1"], capture_output=True, check=False
            )
        _ip("addr", "add", f"{address}/32", "dev", name)
        _ip("link", "set", name, "up")
        _ip("link", "set", name + "p", "up")
        yield MediaAddress(name, address)
    finally:
        _ip("link", "del", name, check=False)  # deleting one end removes the pair
