"""What a bind address means: loopback (only this machine), a wildcard (every interface), or
one interface; and where a local client connects to reach a listener bound there."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Only this machine can reach a listener bound here (127.0.0.0/8, ::1, localhost)."""
    ip = _ip(host)
    return ip.is_loopback if ip is not None else host.strip().lower() in LOOPBACK_NAMES


def is_wildcard(host: str) -> bool:
    """Bound to every interface (0.0.0.0, ::, or empty)."""
    ip = _ip(host)
    return not host.strip() or (ip is not None and ip.is_unspecified)


def connect_host(bind: str) -> str:
    """Where a client on this machine connects to a listener bound at ``bind``."""
    if is_wildcard(bind):
        ip = _ip(bind)
        return "::1" if ip is not None and ip.version == 6 else "127.0.0.1"
    if bind.strip().lower() in LOOPBACK_NAMES:
        return "127.0.0.1"
    return bind.strip()


def host_network(host: str) -> str:
    """The ACL network of exactly this address (Asterisk's permit/deny, CIDR form)."""
    ip = _ip(host)
    if ip is None:
        raise ValueError(f"not an IP address: {host!r}")
    return f"{ip}/{ip.max_prefixlen}"
