"""The composition root: the only place that builds collaborators from settings.

``build_services`` (conference_ivr/dialconf/services.py) builds every use case once; this module
builds the processes' running parts on top: the messaging runtime (Kannel, the SMTP intake),
the booking API with the web pages; ``compose_controller.py`` builds the controller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from booking.adapters.dkim_check import DkimVerifier, TxtLookup
from booking.adapters.kannel import KannelProcess, KannelSecrets, KannelSmsGateway
from booking.adapters.mail import MailIntake, SmtpMailGateway
from booking.adapters.messaging_runtime import MessagingRuntime, mail_handler
from booking.api.app import create_app
from booking.settings import KannelSettings
from booking.web.app import install_web
from booking.web.dashboard import dashboard_router
from booking.web.join import join_router
from booking.web.join_public import join_public_router
from booking.web.live import live_router
from booking.web.operator import operator_router
from booking.web.panel import panel_router
from booking.web.phone import WebPhone
from booking.web.session import COOKIE as SESSION_COOKIE
from booking.web.session import CookiePolicy
from conference_ivr.controller import Controller
from conference_ivr.dialconf.services import (
    Services,
    build_services,
    operator_token,
    timezone,
    web_secret,
)
from conference_ivr.errors import DialconfError
from conference_ivr.settings import Settings


def kannel_settings(settings: Settings) -> KannelSettings:
    """Kannel forwards incoming SMS to this process's API unless told otherwise."""
    k = settings.messaging.kannel
    if "incoming_url" in k.model_fields_set:
        return k
    url = f"http://{settings.api.bind_address}:{settings.api.port}/sms/kannel"
    return k.model_copy(update={"incoming_url": url})


@dataclass(frozen=True)
class Messaging:
    """Messaging as ``dialconf run`` runs it: the services (their outbox sends through Kannel
    and the SMTP relay), the running parts, and the key Kannel presents on incoming SMS."""

    services: Services
    runtime: MessagingRuntime
    sms_key: str


def build_messaging_runtime(settings: Settings, dkim_dns: TxtLookup | None = None) -> Messaging:
    """Kannel (SMS), the SMTP intake, the relay client, and the services over them.
    ``dkim_dns``: how DKIM keys are looked up (None: DNS, through dnspython)."""
    m = settings.messaging
    kannel, kannel_dir, sms, key = None, settings.data_dir / "kannel", None, ""
    if m.sms:
        ks = kannel_settings(settings)
        secrets_ = KannelSecrets.load(ks, kannel_dir)
        kannel, sms, key = KannelProcess(ks), KannelSmsGateway(ks, secrets_.password), secrets_.incoming_key
    services = build_services(settings, sms=sms, mail=SmtpMailGateway(m.mail))
    dkim = DkimVerifier(m.mail.dkim, dkim_dns)
    intake = MailIntake(m.mail, mail_handler(services.messaging), dkim) if m.mail.intake else None
    month_end = services.month_end if m.month_end.run else None
    runtime = MessagingRuntime(services.messaging, kannel, kannel_dir, intake, month_end)
    return Messaging(services, runtime, key)


def build_api(services: Services, sms_key: str = "", routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The booking API and the web pages in one app. ``routers``: pages that need the live
    controller (see ``controller_routers``), when this process runs it. ``sms_key``: the
    secret Kannel presents on incoming SMS (none: no SMS intake)."""
    s, settings = services, services.settings
    app = create_app(
        s.booking,
        operator_token(settings),
        s.messaging,
        sms_key,
        clock=s.clock,
        dialin=s.dialin,
        usage=s.usage,
        billing=s.billing,
        dialout=s.dialout,
        recordings=s.recordings,
        limits=settings.api.limits,
        session_cookie=SESSION_COOKIE,
    )
    app.state.month_end = s.month_end  # POST /api/billing/{month}/month-end
    panel = panel_router(s.booking, s.clock, settings.booking, s.messaging, s.billing, s.recordings)
    operator = operator_router(s.booking)  # the queue and the account plans (issue 19)
    join = join_public_router(web_phone(settings))  # /join: number and PIN from a browser (issue 20)
    a = settings.api
    cookies = CookiePolicy(
        secure=a.secure_cookies,
        session_s=a.session_hours * 3600,
        signin_form_s=a.signin_form_minutes * 60,
        known_moderator_s=a.known_moderator_days * 86400,
    )
    install_web(
        app,
        web_secret(settings),
        timezone(settings),
        [panel, operator, join, *routers],
        sessions=s.web_sessions,
        clock=s.clock,
        cookies=cookies,
    )
    return app


def web_phone(settings: Settings) -> WebPhone:
    """What the join pages' phone needs of the controller's settings (issue 20)."""
    w = settings.webrtc
    return WebPhone(
        w.page_url(settings.asterisk), dict(settings.access_numbers), w.first_key_ms, w.key_gap_ms
    )


def controller_routers(services: Services, controller: Controller) -> list[APIRouter]:
    """Web pages that need the live controller: built in the process that runs it."""
    if controller.live_page is None or controller.operations is None:
        raise DialconfError("the live page and the dashboard need a controller built by build_controller")
    s = services
    period = timedelta(minutes=s.settings.controller.extension_minutes)
    live = live_router(s.booking, s.dialin, s.usage, controller.live_page, s.clock, period)
    # the personal join page (issue 20): its people from the live model, its calls to this controller
    join = join_router(
        s.join_links,
        s.clock,
        timezone(s.settings),
        s.settings.webrtc.page_url(s.settings.asterisk),
        controller.live_page,
    )
    return [live, dashboard_router(controller.operations), join]  # the live page, the dashboard (issue 8)
