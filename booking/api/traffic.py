"""What kind of traffic a request is, as the limits see it: the API or the web pages, a sign-in,
whether it claims a credential, and which client sent it."""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

PANEL_PREFIXES = ("/panel", "/dashboard", "/static", "/join")  # the web pages; everything else is the API
JOIN_PREFIX = "/join/"  # the personal join pages (issue 20): a budget of their own


def is_panel(path: str) -> bool:
    return path.startswith(PANEL_PREFIXES)


def is_sign_in(scope: Scope) -> bool:
    return scope.get("method") == "POST" and str(scope.get("path", "")).startswith("/panel/login")


def is_join_page(path: str) -> bool:
    return path.startswith(JOIN_PREFIX)


def presents_credential(scope: Scope, cookie: str) -> bool:
    """Whether the request carries something that claims who it is (not whether it is valid):
    an Authorization header, the session cookie, or a gateway ``key`` in the query (Kannel)."""
    marker = f"{cookie}=".encode()
    for name, value in scope.get("headers", ()):
        if name == b"authorization" or (name == b"cookie" and marker in value):
            return True
    query: bytes = scope.get("query_string", b"")
    return any(part.startswith(b"key=") for part in query.split(b"&"))


def client_key(scope: Scope, ipv6_prefix: int) -> str:
    """The client's address; an IPv6 one as its network (one host usually holds a whole /64)."""
    client = scope.get("client")
    host = client[0] if client else None
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(host)  # not an address (a test client, a unix socket's peer)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{ipv6_prefix}", strict=False))
    return str(address)
