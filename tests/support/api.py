"""A booking API on a fresh SQLite file, a fake clock and helpers to call it as a profile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from booking.domain.clock import FakeClock
from booking.services.booking import BookingService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from conference_ivr.dialconf.services import Services
from tests.support.services import api_app, services_on

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
OPERATOR_TOKEN = "operator-test-token"


def at(minutes: float) -> str:
    """An ISO time ``minutes`` after NOW, as a client would send it."""
    return (NOW + timedelta(minutes=minutes)).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    client: TestClient
    service: BookingService
    clock: FakeClock
    services: Services
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def operator(self) -> dict[str, str]:
        return bearer(OPERATOR_TOKEN)

    def profile(self, name: str) -> dict[str, str]:
        """Headers of profile ``name``, created through the API on first use."""
        if name not in self.tokens:
            r = self.client.post("/api/profiles", json={"name": name}, headers=self.operator)
            assert r.status_code == 201, r.text
            self.tokens[name] = r.json()["token"]
        return bearer(self.tokens[name])

    def book(self, who: str, expect: int = 201, **body: Any) -> dict[str, Any]:
        body.setdefault("starts_at", at(60))
        body.setdefault("minutes", 60)
        body.setdefault("seats", 5)
        r = self.client.post("/api/reservations", json=body, headers=self.profile(who))
        assert r.status_code == expect, r.text
        result: dict[str, Any] = r.json()
        return result


@contextmanager
def running_api(tmp_path: Path, settings: BookingSettings | None = None) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    clock = FakeClock(NOW)
    services = services_on(engine, clock, settings, tmp_path)
    try:
        plain = api_app(services, OPERATOR_TOKEN, messaging=False, billing=False, dialout=False)
        with TestClient(plain) as client:
            yield Api(client, services.booking, clock, services)
    finally:
        engine.dispose()
