"""Access log lines keep no personal join link (issue 20) and no query string."""

from __future__ import annotations

import logging

from conference_ivr.logs import DropQuery


def _line(path: str) -> tuple[object, ...]:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("127.0.0.1:5000", "GET", path, "1.1", 200)
    DropQuery().filter(record)
    assert isinstance(record.args, tuple)
    return record.args


def test_a_join_link_never_reaches_the_access_log() -> None:
    link = "AbCdEfGhIjKlMnOpQrStUv.0123456789abcdefghijkl"
    assert _line(f"/join/{link}")[2] == "/join/…"
    assert _line(f"/join/{link}/live?x=1")[2] == "/join/…/live"
    assert _line("/sms/kannel?key=secret&text=hi")[2] == "/sms/kannel"
    assert _line("/panel/reservations/1")[2] == "/panel/reservations/1"
