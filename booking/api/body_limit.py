"""Request bodies are cut at a cap before anything parses them: 413 Content Too Large.

A Content-Length over the cap is answered at once, without reading a byte of the body and
before routing, the JSON or form parser, or the token check run. A body without one (chunked)
is counted as it streams in; the chunk that passes the cap is never handed on: the app is told
the client left, and whatever it would answer is replaced by the 413. Either way the server
holds at most the cap (plus one chunk) of any body.

The 413 is sent whole, then the rest of the body is read and thrown away for at most
``linger_s`` before the connection closes (Apache's and nginx's lingering close): closing a
socket with unread data makes the kernel send a reset, and a reset that overtakes the answer
makes the client's kernel discard it, so a client still uploading would see "connection reset"
instead of the 413. Throwing away costs no memory; the time bound keeps a slow sender from
holding the connection.
"""

from __future__ import annotations

import asyncio
import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking.api.traffic import is_panel


class BodyCaps:
    """The cap of each path: a large-body route's own, else the panel's or the API's."""

    def __init__(self, api: int, panel: int, large: dict[str, int]) -> None:
        self.api = api
        self.panel = panel
        self._large = [(re.compile(pattern), cap) for pattern, cap in large.items()]

    def cap(self, path: str) -> int:
        for pattern, cap in self._large:
            if pattern.fullmatch(path):
                return cap
        return self.panel if is_panel(path) else self.api


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed Content-Length before we see it
    return None


async def too_large(send: Send, receive: Receive, cap: int, linger_s: float) -> None:
    body = json.dumps({"detail": f"the request body is over {cap} bytes"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    # The whole answer is out (its length is declared); the response ends after the linger.
    await send({"type": "http.response.body", "body": body, "more_body": True})
    try:
        async with asyncio.timeout(linger_s):
            while (message := await receive())["type"] == "http.request" and message.get("more_body"):
                pass
    except TimeoutError:
        pass
    await send({"type": "http.response.body", "body": b""})


class BodyLimit:
    def __init__(self, app: ASGIApp, caps: BodyCaps, linger_s: float) -> None:
        self.app = app
        self.caps = caps
        self.linger_s = linger_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.caps.cap(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > cap:
            await too_large(send, receive, cap, self.linger_s)
            return
        received = 0
        over = False  # the body passed the cap
        started = False  # the app's answer went out before that
        answered = False  # our 413 went out

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    return {"type": "http.disconnect"}  # parsers stop: the client "left"
            return message

        async def answer(message: Message) -> None:
            nonlocal started, answered
            if over and not started:
                if not answered:  # the app's answer to a cut body is replaced by the 413
                    answered = True
                    await too_large(send, receive, cap, self.linger_s)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not over or started:
                raise
        if over and not answered and not started:
            await too_large(send, receive, cap, self.linger_s)
