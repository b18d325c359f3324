"""A fake AMI server for protocol tests: real socket, scripted replies, recorded actions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

Reply = Callable[[dict[str, str]], str | None]
EOL = "\r\n"


def no_reply(_action: dict[str, str]) -> None:
    """What an action without a scripted reply gets: silence, as from a busy Asterisk."""


def message(**headers: str) -> str:
    return "".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL


class FakeAmi:
    """Speaks just enough AMI: banner, Login (+ FullyBooted), Ping, and per-test replies."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.replies: dict[str, Reply] = {"login": self._login, "ping": self._ping}
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)

    def drop(self) -> None:
        """Close every client connection, like an Asterisk restart."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def send(self, text: str) -> None:
        for writer in self._writers:
            writer.write(text.encode())

    def named(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action", "").lower() == name.lower()]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 5) -> list[dict[str, str]]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.named(name)) >= count)
        return self.named(name)

    @staticmethod
    def _login(action: dict[str, str]) -> str:
        return message(Response="Success", ActionID=action["ActionID"], Message="Authentication accepted") + (
            message(Event="FullyBooted", Privilege="system,all", Status="Fully Booted")
        )

    @staticmethod
    def _ping(action: dict[str, str]) -> str:
        return message(Response="Success", ActionID=action["ActionID"], Ping="Pong", Timestamp="1700000000.0")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a connection is served by its own task
        self._tasks.add(task)
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                action = dict(line.split(": ", 1) for line in block.split(EOL) if ": " in line)
                async with self._changed:
                    self.actions.append(action)
                    self._changed.notify_all()
                reply = self.replies.get(action.get("Action", "").lower(), no_reply)(action)
                if reply:
                    writer.write(reply.encode())
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
