"""Free loopback ports for test instances."""

from __future__ import annotations

import socket


def free_ports(count: int, kind: int = socket.SOCK_STREAM) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports
