"""FastAPI application factory; the OpenAPI document is served at /openapi.json."""

from __future__ import annotations

from fastapi import FastAPI

from booking.service import BookingService


def create_app(service: BookingService) -> FastAPI:
    app = FastAPI(title="dialconf booking", version="0.1.0")
    app.state.booking = service

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
