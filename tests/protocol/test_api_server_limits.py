"""The body cap and the in-flight cap on a real server (uvicorn on a loopback port).

The body cap runs against the API in a process of its own (``tests.support.api_process``,
served as ``dialconf serve`` serves it), so its memory can be read: a 20 MB body, declared or
chunked, is answered 413 within a second, before routing or the token check, and the server's
peak resident memory (VmHWM) does not grow by the body. The peak, not the current RSS: a
buffered 20 MB body is freed (and its pages given back) as soon as it is answered, so the
current RSS after the fact looks the same either way; the high-water mark keeps the proof.
Without the cap the same requests raise it by 40-60 MB each (measured once, by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.responses import StreamingResponse

from booking.domain.clock import SystemClock
from booking.settings import ApiLimits
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from tests.support.api_process import ApiProcess, api_process
from tests.support.composed_api import OPERATOR_TOKEN, composed_app
from tests.support.poll import until_sync
from tests.support.ports import free_ports

MB = 1024 * 1024
BODY = 20 * MB


def send_huge(
    server: ApiProcess, request: str, chunked: bool, content_type: str, prefix: bytes = b""
) -> tuple[bytes, float]:
    """Send a 20 MB body (``prefix``, then filler) while watching for the answer; its status
    line and how long it took."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    head = f"{request} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
    piece = b"x" * 65536
    with socket.create_connection((server.host, server.port)) as s:
        s.setblocking(False)
        started = time.monotonic()
        first = b"%x\r\n%s\r\n" % (len(prefix), prefix) if chunked and prefix else prefix
        pending, sent, answer = head + first, 0, b""
        while b"\r\n" not in answer:
            assert time.monotonic() - started < 10, "no answer"
            want_write = bool(pending) or sent < BODY
            readable, writable, _ = select.select([s], [s] if want_write else [], [], 0.5)
            if readable:
                data = s.recv(65536)
                assert data, "the server closed without an answer"
                answer += data
            elif writable:
                if not pending:
                    sent += len(piece)
                    pending = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
                    if chunked and sent >= BODY:
                        pending += b"0\r\n\r\n"
                with contextlib.suppress(BlockingIOError):  # the buffer filled since select
                    pending = pending[s.send(pending) :]
        return answer.split(b"\r\n", 1)[0], time.monotonic() - started


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    with api_process(tmp_path_factory.mktemp("api")) as p:
        yield p


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_20_mb_body_is_answered_413_at_once_and_costs_no_memory(server: ApiProcess, chunked: bool) -> None:
    base = f"http://{server.host}:{server.port}"
    assert httpx.get(f"{base}/healthz").status_code == 200  # warm: every module of the path loaded
    peak = server.status("VmHWM")
    for request, kind in [
        ("POST /api/reservations", "application/json"),  # before the token check: not a 401
        ("PUT /api/tariff", "application/json"),  # the largest cap (512 KiB)
        ("POST /panel/login", "application/x-www-form-urlencoded"),
    ]:
        status, took = send_huge(server, request, chunked, kind)
        assert status.startswith(b"HTTP/1.1 413"), (request, status)
        assert took < 1.0, (request, took)
    part = b'--x\r\nContent-Disposition: form-data; name="title"\r\n\r\n'  # then 20 MB of title
    for request in ("POST /panel/reservations/new", "POST /panel/login"):
        status, took = send_huge(server, request, chunked, "multipart/form-data; boundary=x", part)
        assert status.startswith(b"HTTP/1.1 413"), (request, status)
        assert took < 1.0, (request, took)
    grown = server.status("VmHWM") - peak
    assert grown < 8 * MB, f"the peak RSS grew by {grown / MB:.1f} MB"
    ok = httpx.post(f"{base}/api/reservations", json={"seats": 1}, headers={"Authorization": "Bearer x"})
    assert ok.status_code == 401  # a body under the cap is read as before


def test_a_client_that_sends_its_whole_body_before_reading_still_gets_the_413(server: ApiProcess) -> None:
    # Such a client (a plain upload) reads only when its body is out. Closing on unread data
    # would reset the connection and its kernel would drop the answer: the server reads the
    # rest away first (booking.api.body_limit, the linger).
    for framing in (f"Content-Length: {BODY}", "Transfer-Encoding: chunked"):
        chunked = framing.startswith("Transfer")
        with socket.create_connection((server.host, server.port), timeout=10) as s:
            s.sendall(f"POST /api/reservations HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode())
            piece = b"x" * 65536
            for _ in range(BODY // len(piece)):
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                s.sendall(b"0\r\n\r\n")
            answer = b""
            while data := s.recv(4096):
                answer += data
        assert answer.startswith(b"HTTP/1.1 413"), (framing, answer[:80])
        assert b"over 65536 bytes" in answer


def test_a_declared_length_over_the_cap_is_refused_without_reading(server: ApiProcess) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(b"PUT /api/tariff HTTP/1.1\r\nHost: x\r\nContent-Length: 524289\r\n\r\n")  # no body
        answer = b""
        while data := s.recv(4096):  # the server closes after the answer
            answer += data
    assert answer.startswith(b"HTTP/1.1 413") and b"connection: close" in answer.lower()
    assert b"over 524288 bytes" in answer


# --- requests in flight -----------------------------------------------------------------------


def test_requests_beyond_the_in_flight_cap_are_503_and_event_streams_do_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    limits = ApiLimits(max_in_flight=3, busy_retry_after_s=2, rate_limit=False)
    app, services = composed_app(tmp_path, engine, SystemClock(), limits)
    booking = services.booking
    release, inside = threading.Event(), threading.Semaphore(0)
    lookup = booking.profile_for_token

    def slow_lookup(token: str) -> object:
        if token == "slow":  # held inside the app until the test lets it go
            inside.release()
            release.wait(20)
        return lookup(token)

    monkeypatch.setattr(booking, "profile_for_token", slow_lookup)
    streams_end = threading.Event()

    @app.get("/panel/test-events")
    async def events() -> StreamingResponse:  # a stand-in for the live page's stream
        async def stream() -> AsyncIterator[bytes]:
            yield b"data: hello\n\n"
            await asyncio.to_thread(streams_end.wait, 20)

        return StreamingResponse(stream(), media_type="text/event-stream")

    (port,) = free_ports(1)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        until_sync(lambda: server.started, 15, "uvicorn started")
        with httpx.Client(base_url=base, timeout=20) as web, ThreadPoolExecutor(8) as pool:
            streams = [web.stream("GET", "/panel/test-events") for _ in range(3)]
            for s in streams:
                opened = s.__enter__()
                assert opened.status_code == 200 and next(opened.iter_lines()) == "data: hello"
            slow = {"Authorization": "Bearer slow"}
            held = [pool.submit(httpx.get, f"{base}/api/me", headers=slow, timeout=20) for _ in range(3)]
            for _ in range(3):
                assert inside.acquire(timeout=10), "a request did not reach the app"
            busy = web.get("/api/me", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
            assert busy.status_code == 503 and busy.headers["retry-after"] == "2", busy.text
            release.set()
            assert [f.result().status_code for f in held] == [401] * 3
            assert web.get("/healthz").status_code == 200  # slots are free again
            streams_end.set()
            for s in streams:
                s.__exit__(None, None, None)
    finally:
        release.set()
        streams_end.set()
        server.should_exit = True
        thread.join(15)
        engine.dispose()
