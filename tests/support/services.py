"""Services for a test, composed as the processes compose them (conference_ivr.dialconf)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from booking.api.app import create_app
from booking.domain.clock import Clock
from booking.services.gateways import MailGateway, SmsGateway
from booking.settings import ApiLimits, BookingSettings
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.settings import Settings


def services_on(
    engine: Engine,
    clock: Clock,
    booking: BookingSettings | None = None,
    data_dir: Path | None = None,
    sms: SmsGateway | None = None,
    mail: MailGateway | None = None,
) -> Services:
    """Every service over ``engine`` (migrated by the caller), with these booking rules."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=data_dir or Path("var"),
        booking=booking or BookingSettings(),
    )
    return build_services(settings, clock, engine, sms, mail)


def api_app(
    s: Services,
    operator_token: str,
    sms_key: str = "",
    limits: ApiLimits | None = None,
    *,
    messaging: bool = True,
    billing: bool = True,
    dialout: bool = True,
) -> FastAPI:
    """The booking API alone (no web pages) over the services; without ``messaging``,
    ``billing`` or ``dialout`` those endpoints are absent."""
    return create_app(
        s.booking,
        operator_token,
        s.messaging if messaging else None,
        sms_key,
        clock=s.clock,
        dialin=s.dialin,
        usage=s.usage,
        billing=s.billing if billing else None,
        dialout=s.dialout if dialout else None,
        recordings=s.recordings,
        limits=limits,
    )
