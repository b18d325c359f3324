"""Whatever a route did not expect: a generic 500 JSON for the client, the stack trace for the log.

The outermost middleware of the app, so an error in the limits below it is caught too. The
client learns nothing of the cause. The log gets the frames (file, line, code: no values) and
each exception's message with what could be a secret masked: SQL parameters are hidden (a
failed INSERT would list a PIN or a token hash), and so is any run of 4 or more digits (PINs,
conference and phone numbers) or any word of 32 or more letters, digits, - and _ (tokens,
hashes). The path is the route's template, never the query (Kannel's key travels there).
"""

from __future__ import annotations

import json
import re
import traceback

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

ANSWER = json.dumps({"detail": "internal error: the request failed and was logged"}).encode()
_DIGITS = re.compile(r"[0-9]{4,}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")  # token_urlsafe(32) is 43 long, a sha256 in hex 64


def redacted(text: str) -> str:
    return _TOKEN.sub("<token?>", _DIGITS.sub("<digits>", text))


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, oldest first (as Python prints them)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in found):
        found.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return found[::-1]


def stack_of(exc: BaseException) -> str:
    """The stack trace with every exception message redacted (the frames carry no values)."""
    parts = []
    for e in _chain(exc):
        if hasattr(e, "hide_parameters"):  # a driver's error (SQLAlchemy): no parameters shown
            e.hide_parameters = True
        frames = "".join(traceback.format_tb(e.__traceback__))
        parts.append(f"{frames}{type(e).__module__}.{type(e).__qualname__}: {redacted(str(e))}")
    return "\nwhich led to:\n".join(parts)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else str(scope.get("path", ""))[:200]


class UnexpectedErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error(
                "request_failed",
                method=scope.get("method", ""),
                route=route_of(scope),
                error=type(exc).__qualname__,
                stack=stack_of(exc),
            )
            if started:  # half an answer is out: the server closes the connection
                return
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": ANSWER})
