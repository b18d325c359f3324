"""The composition root: the only place that builds collaborators from settings."""

from __future__ import annotations

from sqlalchemy import Engine

from booking.clock import Clock, SystemClock
from booking.service import BookingService
from booking.store.engine import make_engine
from booking.store.unit_of_work import UnitOfWork
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.controller import Controller
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.live import LiveConferences
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import Settings


def build_booking(
    settings: Settings, clock: Clock | None = None, engine: Engine | None = None
) -> BookingService:
    engine = engine or make_engine(settings.database_url)
    return BookingService(UnitOfWork(engine), clock or SystemClock(), settings.booking)


def build_controller(settings: Settings, booking: BookingService, ami_secret: str) -> Controller:
    metrics = Metrics()
    a = settings.asterisk
    ami = AmiClient(
        host=a.bind_address,
        port=a.ami_port,
        username=a.ami_user,
        secret=ami_secret,
        reconnect_s=settings.controller.ami_reconnect_s,
    )
    live = LiveConferences(ami, metrics)
    ami.on_event(live.on_event)
    ami.on_resync(live.resync)

    def observe(command: str, seconds: float) -> None:
        metrics.agi_exchange_seconds.labels(command=command).observe(seconds)

    agi = FastAgiServer(header_timeout=settings.controller.agi_header_timeout_s, observer=observe)
    journey = DialInJourney(
        ThreadedDirectory(booking), settings.controller, metrics, on_join=live.expect_join
    )
    agi.add_route(names.AGI_ROUTE_IVR, journey.__call__)
    return Controller(settings.controller, agi, ami, live, metrics)
