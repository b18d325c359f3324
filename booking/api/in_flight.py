"""A cap on the requests served at once: beyond it 503 with Retry-After, without reading them.

A request counts from its arrival until its answer is complete, so the cap also bounds the
memory their bodies hold (each at most its body cap) and the threads they wait for. An event
stream (``text/event-stream``: the live page) leaves the count when its answer starts: it stays
open as long as the page does, and is capped per session where it is served.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVENT_STREAM = b"text/event-stream"


def is_event_stream(message: Message) -> bool:
    return any(
        name == b"content-type" and value.split(b";")[0].strip() == EVENT_STREAM
        for name, value in message.get("headers", ())
    )


async def busy(send: Send, retry_after_s: int) -> None:
    body = json.dumps({"detail": f"the service is busy: try again in {retry_after_s} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class InFlight:
    def __init__(self, app: ASGIApp, limit: int, retry_after_s: int) -> None:
        self.app = app
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.count >= self.limit:
            await busy(send, self.retry_after_s)
            return
        self.count += 1
        counted = True

        def release() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.count -= 1

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and is_event_stream(message):
                release()
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            release()
