"""The composition root: the only place that builds collaborators from settings."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from booking.adapters.dkim_check import DkimVerifier, TxtLookup
from booking.adapters.kannel import KannelProcess, KannelSecrets, KannelSmsGateway
from booking.adapters.kept_secret import EmptySecretFile, kept_secret
from booking.adapters.mail import MailIntake, SmtpMailGateway
from booking.adapters.messaging_runtime import MessagingRuntime, mail_handler
from booking.api.app import create_app
from booking.domain.clock import Clock, SystemClock
from booking.domain.compose import Composer
from booking.domain.dialout_policy import CallCaps, NumberPolicy
from booking.domain.model import Reservation
from booking.domain.usage import is_mobile
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.dialout import DialOutRules, DialOutService
from booking.services.dispatcher import Dispatcher
from booking.services.gateways import MailGateway, SmsGateway
from booking.services.messaging import MessagingService
from booking.services.notice_hook import MessagingHook
from booking.services.notices import NoticePlanner
from booking.services.orders import OrderDesk
from booking.services.usage import UsageService
from booking.settings import KannelSettings
from booking.store.engine import make_engine
from booking.store.unit_of_work import SqlUnitOfWork
from booking.web.app import install_web
from booking.web.dashboard import dashboard_router
from booking.web.live import live_router
from booking.web.panel import panel_router
from booking.web.session import COOKIE as SESSION_COOKIE
from booking.web.session import CookiePolicy
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer, NameAnnouncements
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.dialout import DialOut, KeypadDial
from conference_ivr.conference.lifecycle import ConferenceLifecycle
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.roster import Roster
from conference_ivr.conference.usage_recorder import UsageRecorder
from conference_ivr.conference.web_port import LivePagePort, OperationsPort
from conference_ivr.controller import Controller
from conference_ivr.errors import DialconfError
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.invitation import DialOutInvitation
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.menu import KeypadMenu
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import Settings


def build_booking(
    settings: Settings, clock: Clock | None = None, engine: Engine | None = None
) -> BookingService:
    """The booking service; notices to invitees are planned inside its transactions."""
    engine = engine or make_engine(settings.database_url)
    hook = MessagingHook(NoticePlanner(settings.messaging.notices))
    return BookingService(SqlUnitOfWork(engine), clock or SystemClock(), settings.booking, on_change=hook)


def timezone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.messaging.timezone or settings.controller.timezone)


def build_billing(settings: Settings, booking: BookingService) -> BillingService:
    """Rating, statements and reports over the booking store; months are calendar months of
    the service's time zone. A price change is announced by SMS (R62) through the outbox,
    which the running service's dispatcher sends, whichever process loaded the tariff."""
    announce = build_messaging(settings, booking).announce_price_change
    return BillingService(booking.uow, booking.clock, timezone(settings), announce)


def kannel_settings(settings: Settings) -> KannelSettings:
    """Kannel forwards incoming SMS to this process's API unless told otherwise."""
    k = settings.messaging.kannel
    if "incoming_url" in k.model_fields_set:
        return k
    url = f"http://{settings.api.bind_address}:{settings.api.port}/sms/kannel"
    return k.model_copy(update={"incoming_url": url})


def build_messaging(
    settings: Settings,
    booking: BookingService,
    sms: SmsGateway | None = None,
    mail: MailGateway | None = None,
) -> MessagingService:
    """Ordering by SMS and e-mail, the outbox dispatcher over the given gateways, invitations."""
    m = settings.messaging
    composer = Composer(settings.access_numbers, timezone(settings), m.service_name, settings.booking)
    desk = OrderDesk(booking, composer, m)
    dispatcher = Dispatcher(booking.uow, booking.clock, composer, m, sms, mail)
    return MessagingService(booking, composer, NoticePlanner(m.notices), desk, dispatcher)


def operator_token_file(settings: Settings) -> Path:
    return settings.data_dir / "operator.token"


def operator_token(settings: Settings) -> str:
    """The configured operator token, or one generated once and kept (0600) in the data dir."""
    if settings.api.operator_token:
        return settings.api.operator_token
    try:
        return kept_secret(operator_token_file(settings))
    except EmptySecretFile as e:
        raise DialconfError(f"{e} (the operator token)") from e


def web_secret(settings: Settings) -> str:
    """What signs the web pages' session cookies: generated once, kept (0600) in the data dir."""
    return kept_secret(settings.data_dir / "web.secret")


def build_messaging_runtime(
    settings: Settings, booking: BookingService, dkim_dns: TxtLookup | None = None
) -> tuple[MessagingService, MessagingRuntime, str]:
    """Messaging as ``dialconf run`` runs it: Kannel (SMS), the SMTP intake, the relay client.
    Returns the service, its runtime, and the key Kannel presents on incoming SMS.
    ``dkim_dns``: how DKIM keys are looked up (None: DNS, through dnspython)."""
    m = settings.messaging
    kannel, kannel_dir, sms, key = None, settings.data_dir / "kannel", None, ""
    if m.sms:
        ks = kannel_settings(settings)
        secrets_ = KannelSecrets.load(ks, kannel_dir)
        kannel, sms, key = KannelProcess(ks), KannelSmsGateway(ks, secrets_.password), secrets_.incoming_key
    service = build_messaging(settings, booking, sms, SmtpMailGateway(m.mail))
    dkim = DkimVerifier(m.mail.dkim, dkim_dns)
    intake = MailIntake(m.mail, mail_handler(service), dkim) if m.mail.intake else None
    return service, MessagingRuntime(service, kannel, kannel_dir, intake), key


def build_api(
    settings: Settings,
    booking: BookingService,
    messaging: MessagingService | None = None,
    sms_key: str = "",
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The booking API and the web pages in one app. ``routers``: pages that need the live
    controller (see ``controller_routers``), when this process runs it."""
    billing = build_billing(settings, booking)
    app = create_app(
        booking,
        operator_token(settings),
        messaging,
        sms_key,
        billing=billing,
        dialout=build_dialout_calls(settings, booking),
        limits=settings.api.limits,
        session_cookie=SESSION_COOKIE,
    )
    pages: list[APIRouter] = []
    pages.append(panel_router(booking, messaging, billing))  # the organizer panel (issue 8)
    a = settings.api
    cookies = CookiePolicy(
        secure=a.secure_cookies,
        session_s=a.session_hours * 3600,
        signin_form_s=a.signin_form_minutes * 60,
        known_moderator_s=a.known_moderator_days * 86400,
    )
    install_web(app, web_secret(settings), timezone(settings), [*pages, *routers], cookies=cookies)
    return app


def controller_routers(
    settings: Settings, booking: BookingService, controller: Controller
) -> list[APIRouter]:
    """Web pages that need the live controller: built in the process that runs it."""
    if controller.live_page is None or controller.operations is None:
        raise DialconfError("the live page and the dashboard need a controller built by build_controller")
    usage = UsageService(booking.uow, booking.clock, settings.booking)
    period = timedelta(minutes=settings.controller.extension_minutes)
    return [
        live_router(booking, usage, controller.live_page, period),  # the moderator live page (issue 8)
        dashboard_router(controller.operations),  # the operations dashboard (issue 8)
    ]


def dialout_rules(settings: Settings) -> DialOutRules:
    """Who may be called and how often (toll fraud: docs/security/dialout-and-agi.md)."""
    d = settings.dialout
    policy = NumberPolicy(
        home_region=settings.booking.phone_region,
        allowed_regions=frozenset(r.upper() for r in d.allowed_regions),
        allowed_kinds=frozenset(d.allowed_types),
        pattern=d.allowed_numbers,
        dial_format=d.dial_format,
    )
    caps = CallCaps(
        reservation_per_day=d.reservation_calls_per_day,
        reservation_per_minute=d.reservation_calls_per_minute,
        profile_per_hour=d.profile_calls_per_hour,
        profile_per_day=d.profile_calls_per_day,
    )
    return DialOutRules(policy, caps, d.max_attempts, timedelta(seconds=d.retry_s))


def build_dialout_calls(settings: Settings, booking: BookingService) -> DialOutService:
    return DialOutService(booking.uow, booking.clock, dialout_rules(settings))


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
    ami = AmiClient(
        host=a.ami_host,
        port=a.ami_port,
        username=a.ami_user,
        secret=ami_secret,
        reconnect_s=c.ami_reconnect_s,
        events=",".join(names.CONTROLLER_AMI_EVENTS),
        typed_only=True,
    )
    live = LiveConferences(ami, metrics)
    roster = Roster()
    announcer = Announcer(ami, metrics)
    for handler in (
        live.on_event,
        announcer.on_event,
        NameAnnouncements(announcer, roster, live, c.announce_names).on_event,
    ):
        ami.on_event(handler)
    ami.on_resync(live.resync)
    usage = UsageService(booking.uow, booking.clock, settings.booking)
    recorder = UsageRecorder(usage, roster, live, booking.clock)
    ami.on_event(recorder.on_event)
    live.on_rebuilt(recorder.reconcile)

    def observe(command: str, seconds: float) -> None:
        metrics.agi_exchange_seconds.labels(command=command).observe(seconds)

    dialin = booking.dialin

    def dropped(reason: str) -> None:
        metrics.agi_dropped.labels(reason=reason).inc()

    agi = FastAgiServer(
        header_timeout=c.agi_header_timeout_s,
        observer=observe,
        reply_timeout=c.agi_reply_timeout_s,
        max_sessions=c.agi_max_sessions,
        allowed_peers=c.agi_allowed_peers,
        on_dropped=dropped,
    )
    directory = ThreadedDirectory(dialin, c.lookup_threads)
    journey = DialInJourney(
        directory,
        c,
        metrics,
        settings.access_numbers,
        roster,
        names_dir,
        on_join=live.expect_join,
        seats=live.take_seat,
    )

    async def remaining(number: str) -> float | None:
        return await asyncio.to_thread(dialin.remaining_seconds, number)

    d = settings.dialout
    calls = build_dialout_calls(settings, booking)

    def refused(code: str) -> None:
        metrics.dialout_refused.labels(reason=code).inc()

    dialout = DialOut(ami, calls, d, booking.clock, live, roster, on_refused=refused)
    ami.on_event(dialout.on_event)

    async def current(number: str) -> Reservation | None:
        return await asyncio.to_thread(dialin.current_reservation, number)

    menu = KeypadMenu(
        remaining,
        live,
        roster,
        announcer,
        ami,
        metrics,
        ZoneInfo(c.timezone),
        note_end=recorder.note_end,
        dial=KeypadDial(dialout, current),
    )
    invitation = DialOutInvitation(
        calls,
        journey,
        booking.clock,
        ZoneInfo(c.timezone),
        d.invitation_tries,
        c.digit_timeout_ms / 1000,
    )
    agi.add_route(names.AGI_ROUTE_IVR, journey.__call__)
    agi.add_route(names.AGI_ROUTE_MENU, menu.__call__)
    agi.add_route(names.AGI_ROUTE_DIALOUT, invitation.__call__)

    async def extend(reservation_id: int, until: datetime) -> bool:
        return await asyncio.to_thread(booking.try_extend, reservation_id, until)

    lifecycle = ConferenceLifecycle(
        live,
        roster,
        current,
        extend,
        announcer,
        booking.clock,
        metrics,
        lead=timedelta(minutes=c.warning_lead_minutes),
        period=timedelta(minutes=c.extension_minutes),
        tick_s=c.lifecycle_tick_s,
        ami=ami,
        is_mobile=lambda number: is_mobile(number, settings.booking.phone_region),
        mobile_cap=timedelta(minutes=c.mobile_cap_minutes),
        mobile_warning=timedelta(minutes=c.mobile_warning_minutes),
        note_end=recorder.note_end,
    )
    control = LiveControl(
        ami,
        roster,
        announcer,
        booking.clock,
        note_end=recorder.note_end,
        max_watches=c.live_streams_max,
        max_watches_per_session=c.live_streams_per_session,
    )
    ami.on_event(control.on_event)
    live.on_rebuilt(control.resync)
    gauges = BookingGauges(booking, metrics)  # seats and lockouts of /metrics and the dashboard
    controller = Controller(
        c,
        agi,
        ami,
        live,
        metrics,
        lifecycle,
        recorder,
        dialout,
        control=control,
        directory=directory,
        live_page=LivePagePort(control, dialout),
        operations=OperationsPort(live, ami, agi, metrics, gauges),
    )
    controller.run_beside("booking_gauges", gauges.run)
    return controller
