"""The booking API and the web pages as ``dialconf`` composes them (``build_api``: every router,
the guards, the settings' limits), on a fresh store and a fake clock, with recording gateways.

``store_digest`` fingerprints every row of every table, so a test can tell that an answer
changed nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select

from booking.domain.clock import Clock, FakeClock
from booking.services.booking import BookingService
from booking.settings import ApiLimits
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from conference_ivr.dialconf.compose import build_api
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.settings import Settings
from tests.support.api import NOW, bearer
from tests.support.messaging import RecordingGateway
from tests.support.signin import post_sign_in

OPERATOR_TOKEN = "operator-token-of-the-composed-api"
SMS_KEY = "kannel-key-of-the-composed-api"


def composed_settings(tmp: Path, url: str, limits: ApiLimits | None = None) -> Settings:
    return Settings(
        data_dir=tmp,
        database_url=url,
        access_numbers={"+420222111000": "cs"},
        api={"operator_token": OPERATOR_TOKEN, "limits": limits or ApiLimits()},
        controller={"timezone": "Europe/Prague"},
    )


@dataclass
class Composed:
    client: TestClient
    services: Services
    clock: FakeClock
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def booking(self) -> BookingService:
        return self.services.booking

    @property
    def operator(self) -> dict[str, str]:
        return bearer(OPERATOR_TOKEN)

    def profile(self, name: str) -> dict[str, str]:
        if name not in self.tokens:
            _, self.tokens[name] = self.booking.create_profile(name)
        return bearer(self.tokens[name])

    def send(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        """``body`` as a client may write it: NaN and lone surrogates (escaped) included."""
        if body is not None:
            kw["content"] = json.dumps(body).encode()
            kw["headers"] = {**kw.get("headers", {}), "Content-Type": "application/json"}
        answer: httpx.Response = self.client.request(method, path, **kw)
        return answer

    def sign_in(self, name: str) -> str:
        """A panel session for profile ``name``; returns its CSRF token."""
        self.profile(name)
        ok = post_sign_in(self.client, "/panel/login", {"token": self.tokens[name]}, follow_redirects=False)
        assert ok.status_code == 303, ok.text
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/panel").text)
        assert found is not None
        return found.group(1)

    def digest(self) -> str:
        return store_digest(self.engine)


_reflected: dict[str, MetaData] = {}


def store_digest(engine: Engine) -> str:
    """Every row of every table, hashed: equal digests, nothing was written."""
    meta = _reflected.get(str(engine.url))
    if meta is None:
        meta = _reflected[str(engine.url)] = MetaData()
        meta.reflect(engine)
    h = hashlib.sha256()
    with engine.connect() as conn:
        for name in sorted(meta.tables):
            table = meta.tables[name]
            rows = conn.execute(select(table)).all()
            h.update(name.encode())
            for row in sorted(repr(tuple(r)) for r in rows):
                h.update(row.encode())
    return h.hexdigest()


def composed_app(
    tmp: Path, engine: Engine, clock: Clock, limits: ApiLimits | None = None
) -> tuple[FastAPI, Services]:
    settings = composed_settings(tmp, engine.url.render_as_string(hide_password=False), limits)
    gateway = RecordingGateway()
    services = build_services(settings, clock, engine, gateway, gateway)
    return build_api(services, SMS_KEY), services


@contextmanager
def composed_api(
    tmp: Path, limits: ApiLimits | None = None, url: str | None = None, start: datetime = NOW
) -> Iterator[Composed]:
    url = url or f"sqlite:///{tmp / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    clock = FakeClock(start.astimezone(UTC))
    app, services = composed_app(tmp, engine, clock, limits)
    try:
        with TestClient(app) as client:
            yield Composed(client, services, clock, engine)
    finally:
        engine.dispose()
