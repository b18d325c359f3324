"""The composition root: the only place that builds collaborators from settings."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import Engine

from booking.api.app import create_app
from booking.clock import Clock, SystemClock
from booking.domain.model import Reservation
from booking.domain.usage import is_mobile
from booking.service import BookingService
from booking.store.engine import make_engine
from booking.store.unit_of_work import UnitOfWork
from booking.usage import UsageService
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.controller import Controller
from conference_ivr.errors import DialconfError
from conference_ivr.ivr.announcer import Announcer, NameAnnouncements
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.menu import KeypadMenu
from conference_ivr.ivr.roster import Roster
from conference_ivr.lifecycle import ConferenceLifecycle
from conference_ivr.live import LiveConferences
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import Settings
from conference_ivr.usage_recorder import UsageRecorder


def build_booking(
    settings: Settings, clock: Clock | None = None, engine: Engine | None = None
) -> BookingService:
    engine = engine or make_engine(settings.database_url)
    return BookingService(UnitOfWork(engine), clock or SystemClock(), settings.booking)


def operator_token_file(settings: Settings) -> Path:
    return settings.data_dir / "operator.token"


def operator_token(settings: Settings) -> str:
    """The configured operator token, or one generated once and kept (0600) in the data dir."""
    if settings.api.operator_token:
        return settings.api.operator_token
    path = operator_token_file(settings)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Created 0600 and exclusively: never readable by others, not even briefly.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
    token = path.read_text().strip()
    if not token:
        raise DialconfError(f"{path} is empty: delete it to generate a new operator token")
    return token


def build_api(settings: Settings, booking: BookingService) -> FastAPI:
    return create_app(booking, operator_token(settings))


def build_controller(
    settings: Settings,
    booking: BookingService,
    ami_secret: str,
    names_dir: PurePosixPath | None = None,
) -> Controller:
    """The controller: FastAGI routes (journey, keypad menu), AMI, live state, announcements.

    ``names_dir`` is where Asterisk records callers' names (a path as Asterisk sees it);
    without it the journey skips the name recording.
    """
    metrics = Metrics()
    a, c = settings.asterisk, settings.controller
    ami = AmiClient(host=a.bind_address, port=a.ami_port, username=a.ami_user, secret=ami_secret,
                    reconnect_s=c.ami_reconnect_s)  # fmt: skip
    live = LiveConferences(ami, metrics)
    roster = Roster()
    announcer = Announcer(ami, metrics)
    for handler in (live.on_event, announcer.on_event,
                    NameAnnouncements(announcer, roster, live, c.announce_names).on_event):  # fmt: skip
        ami.on_event(handler)
    ami.on_resync(live.resync)
    usage = UsageService(booking.uow, booking.clock, settings.booking)
    recorder = UsageRecorder(usage, roster, live, booking.clock)
    ami.on_event(recorder.on_event)
    live.on_rebuilt(recorder.reconcile)

    def observe(command: str, seconds: float) -> None:
        metrics.agi_exchange_seconds.labels(command=command).observe(seconds)

    dialin = booking.dialin
    agi = FastAgiServer(header_timeout=c.agi_header_timeout_s, observer=observe)
    journey = DialInJourney(ThreadedDirectory(dialin), c, metrics, settings.access_numbers, roster, names_dir,
                            on_join=live.expect_join, seats=live.take_seat)  # fmt: skip

    async def remaining(number: str) -> float | None:
        return await asyncio.to_thread(dialin.remaining_seconds, number)

    menu = KeypadMenu(remaining, live, roster, announcer, ami, metrics, ZoneInfo(c.timezone),
                      note_end=recorder.note_end)  # fmt: skip
    agi.add_route(names.AGI_ROUTE_IVR, journey.__call__)
    agi.add_route(names.AGI_ROUTE_MENU, menu.__call__)

    async def current(number: str) -> Reservation | None:
        return await asyncio.to_thread(dialin.current_reservation, number)

    async def extend(reservation_id: int, until: datetime) -> bool:
        return await asyncio.to_thread(booking.try_extend, reservation_id, until)

    lifecycle = ConferenceLifecycle(
        live, roster, current, extend, announcer, booking.clock, metrics,
        lead=timedelta(minutes=c.warning_lead_minutes), period=timedelta(minutes=c.extension_minutes),
        tick_s=c.lifecycle_tick_s, ami=ami,
        is_mobile=lambda number: is_mobile(number, settings.booking.phone_region),
        mobile_cap=timedelta(minutes=c.mobile_cap_minutes),
        mobile_warning=timedelta(minutes=c.mobile_warning_minutes), note_end=recorder.note_end,
    )  # fmt: skip
    return Controller(c, agi, ami, live, metrics, lifecycle, recorder)
