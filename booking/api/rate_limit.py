"""Per-client rate limits: token buckets per client address, 429 with Retry-After.

Every request spends from its client's budget for the API or for the web pages. A request that
presents no credential (no Authorization header, no session cookie, no gateway key) also spends
from the stricter unauthenticated budget, and so does every 401 or 403 answer (a wrong token, a
wrong key, an expired form): while that budget is empty, nothing from the client is served, so
guessing tokens costs the guesser alone. Sign-in forms spend from a budget of their own too.
A forged credential only moves a request from the unauthenticated budget to the general one.

The client is ``request.client.host`` (the server resolves a trusted proxy's X-Forwarded-For
into it); an IPv6 client is its /64 (or configured) network, since one host usually has all
of one. The table of clients is bounded: the least recently seen are forgotten first, which
only ever gives a forgotten client a full budget again. Time is the injected clock's.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking.api.traffic import client_key, is_join_page, is_panel, is_sign_in, presents_credential
from booking.domain.clock import Clock
from booking.settings import ApiLimits, Budget

UNAUTHENTICATED, SIGN_IN, JOIN = "unauthenticated", "sign_in", "join"
REFUSED = (401, 403)
# A join page's link is its credential: an unknown or forged one (404) costs like a wrong token.
JOIN_REFUSED = (*REFUSED, 404)


class Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, budget: Budget, now: float) -> None:
        self.tokens = float(budget.burst)
        self.at = now

    def refill(self, budget: Budget, now: float) -> None:
        if now > self.at:
            self.tokens = min(float(budget.burst), self.tokens + (now - self.at) * budget.per_second)
        self.at = max(self.at, now)

    def wait_s(self, budget: Budget) -> float:
        """Seconds until one token is there (0: now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / budget.per_second

    def spend(self) -> None:
        self.tokens = max(0.0, self.tokens - 1)


class ClientTable:
    """Each client's buckets, for at most ``size`` clients (least recently seen evicted)."""

    def __init__(self, budgets: dict[str, Budget], size: int) -> None:
        self.budgets = budgets
        self.size = size
        self._clients: OrderedDict[str, dict[str, Bucket]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def buckets(self, client: str) -> dict[str, Bucket]:
        found = self._clients.get(client)
        if found is None:
            found = self._clients[client] = {}
            while len(self._clients) > self.size:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client)
        return found

    def bucket(self, buckets: dict[str, Bucket], name: str, now: float) -> Bucket:
        b = buckets.get(name)
        if b is None:
            b = buckets[name] = Bucket(self.budgets[name], now)
        b.refill(self.budgets[name], now)
        return b


async def too_many(send: Send, wait_s: float) -> None:
    seconds = max(1, math.ceil(wait_s))
    body = json.dumps({"detail": f"too many requests from this address: try again in {seconds} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    def __init__(self, app: ASGIApp, limits: ApiLimits, clock: Clock, session_cookie: str) -> None:
        self.app = app
        self.clock = clock
        self.cookie = session_cookie
        self.ipv6_prefix = limits.ipv6_prefix
        budgets = {"api": limits.api, "panel": limits.panel, UNAUTHENTICATED: limits.unauthenticated}
        self.table = ClientTable({**budgets, SIGN_IN: limits.sign_in, JOIN: limits.join}, limits.max_clients)

    def _spends(self, scope: Scope) -> list[str]:
        path = scope["path"]
        names = ["panel" if is_panel(path) else "api"]
        if not presents_credential(scope, self.cookie):
            names.append(UNAUTHENTICATED)
        if is_sign_in(scope):
            names.append(SIGN_IN)
        if is_join_page(path):
            names.append(JOIN)
        return names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = self.clock.now().timestamp()
        buckets = self.table.buckets(client_key(scope, self.ipv6_prefix))
        spends = self._spends(scope)
        # An empty unauthenticated budget stops everything the client sends.
        gates = {name: self.table.bucket(buckets, name, now) for name in {*spends, UNAUTHENTICATED}}
        wait = max(b.wait_s(self.table.budgets[name]) for name, b in gates.items())
        if wait > 0:
            await too_many(send, wait)
            return
        for name in spends:
            gates[name].spend()
        refused = JOIN_REFUSED if JOIN in spends else REFUSED

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in refused:
                gates[UNAUTHENTICATED].spend()
            await send(message)

        await self.app(scope, receive, watched)
