"""The composition root: the only place that builds collaborators from settings.

``build_services`` (conference_ivr/dialconf/services.py) builds every use case once; this module
builds the processes' running parts on top: the messaging runtime (Kannel, the SMTP intake),
the booking API with the web pages, and the controller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI
from prometheus_client import Histogram

from booking.adapters.dkim_check import DkimVerifier, TxtLookup
from booking.adapters.kannel import KannelProcess, KannelSecrets, KannelSmsGateway
from booking.adapters.mail import MailIntake, SmtpMailGateway
from booking.adapters.messaging_runtime import MessagingRuntime, mail_handler
from booking.api.app import create_app
from booking.domain.live import EndDecision
from booking.domain.model import Reservation
from booking.domain.usage import Leg, is_mobile
from booking.services.join_links import Redeemed
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
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer, NameAnnouncements
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.dialout import DialOut, KeypadDial
from conference_ivr.conference.lecture import LectureMode
from conference_ivr.conference.lifecycle import ConferenceLifecycle
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.name_keeper import NameKeeper
from conference_ivr.conference.recorder import ConferenceRecorder
from conference_ivr.conference.recording_keeper import RecordingKeeper
from conference_ivr.conference.seat_keeper import SeatKeeper
from conference_ivr.conference.usage_recorder import UsageRecorder
from conference_ivr.conference.web_port import LivePagePort, OperationsPort
from conference_ivr.controller import Controller
from conference_ivr.dialconf.services import (
    Services,
    build_services,
    operator_token,
    timezone,
    web_secret,
)
from conference_ivr.errors import DialconfError
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.invitation import DialOutInvitation
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.lecture_keys import LectureKeys
from conference_ivr.ivr.menu import KeypadMenu
from conference_ivr.ivr.web_join import TokenSource, WebJoin, sip_header_token
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
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


def _ami_client(settings: Settings, secret: str) -> AmiClient:
    a, c = settings.asterisk, settings.controller
    return AmiClient(
        host=a.ami_host,
        port=a.ami_port,
        username=a.ami_user,
        secret=secret,
        reconnect_s=c.ami_reconnect_s,
        events=",".join(names.CONTROLLER_AMI_EVENTS),
        typed_only=True,
    )


def _agi_server(settings: Settings, metrics: Metrics) -> FastAgiServer:
    c = settings.controller

    # The histogram's child per command verb, looked up once: ``labels()`` on each of a call's
    # ~18 exchanges was a measurable share of the event loop under a burst (bench/agi_bench.py).
    # As many entries as the histogram has label values (the journey's few verbs).
    by_command: dict[str, Histogram] = {}

    def observe(command: str, seconds: float) -> None:
        child = by_command.get(command)
        if child is None:
            child = by_command[command] = metrics.agi_exchange_seconds.labels(command=command)
        child.observe(seconds)

    def dropped(reason: str) -> None:
        metrics.agi_dropped.labels(reason=reason).inc()

    return FastAgiServer(
        header_timeout=c.agi_header_timeout_s,
        observer=observe,
        reply_timeout=c.agi_reply_timeout_s,
        max_sessions=c.agi_max_sessions,
        allowed_peers=c.agi_allowed_peers,
        on_dropped=dropped,
    )


def _keypad_extend(services: Services) -> Callable[[str], Awaitable[bool | None]]:
    period = timedelta(minutes=services.settings.controller.extension_minutes)

    async def extend(number: str) -> bool | None:
        return await asyncio.to_thread(services.endings.extend_now, number, period)

    return extend


def _keep_files(
    controller: Controller,
    services: Services,
    names_host: Callable[[PurePosixPath], Path] | None,
    recording: ConferenceRecorder | None,
) -> None:
    """The recorded names' and the recordings' retention sweeps."""
    c = services.settings.controller
    if names_host is not None:
        retention = timedelta(days=c.names_retention_days)
        controller.run_beside("names", NameKeeper(services.usage, names_host, retention, c.names_sweep_s).run)
    if recording is not None:
        controller.ami.on_event(recording.on_event)
        kept = timedelta(days=services.settings.booking.recordings_retention_days)
        controller.run_beside(
            "recordings", RecordingKeeper(services.recordings, kept, c.recordings_sweep_s).run
        )


def _lecture_mode(ami: AmiClient, live: LiveConferences, announcer: Announcer) -> LectureMode:
    """Lecture mode and raised hands, kept true by the AMI events (a participant's own unmute)."""
    lecture = LectureMode(ami.action, live, announcer)
    ami.on_event(lecture.on_event)
    return lecture


def _web_join(
    services: Services,
    journey: DialInJourney,
    directory: ThreadedDirectory,
    metrics: Metrics,
    token: TokenSource,
) -> WebJoin:
    """The browser's way in (issue 20): its token redeemed on the IVR's writer thread."""
    join_links = services.join_links

    async def redeem(text: str, uniqueid: str) -> Redeemed:
        return await directory.write(join_links.redeem, text, uniqueid)

    c = services.settings.controller
    return WebJoin(journey, redeem, metrics, ZoneInfo(c.timezone), token_source=token)


def build_controller(
    services: Services,
    ami_secret: str,
    names_dir: PurePosixPath | None = None,
    names_host: Callable[[PurePosixPath], Path] | None = None,
    recordings_dir: PurePosixPath | None = None,
    web_token: TokenSource = sip_header_token,
) -> Controller:
    """The controller: FastAGI routes (journey, keypad menu), AMI, live state, announcements.

    ``names_dir`` is where Asterisk records callers' names (a path as Asterisk sees it);
    without it the journey skips the name recording. ``names_host`` turns such a path into
    the file on this host, for deleting the names past their retention (and, with
    ``recordings_dir``, where ConfBridge records conferences: without both, nothing is recorded).
    ``web_token``: where the ``web`` route reads a browser's call token (the SIP header; a
    test over Local channels gives its own).
    """
    settings, clock = services.settings, services.clock
    metrics = Metrics()
    c = settings.controller
    ami = _ami_client(settings, ami_secret)
    usage = services.usage

    async def open_legs() -> dict[str, Leg]:
        return await asyncio.to_thread(usage.open_legs)

    # The one model of the live conferences: everything below reads it or listens to it.
    live = LiveConferences(ami, metrics, clock, open_legs)
    announcer = Announcer(ami, metrics, live)
    ami.on_event(live.on_event)
    ami.on_event(announcer.on_event)
    ami.on_resync(live.resync)
    NameAnnouncements(announcer, live, c.announce_names)
    recorder = UsageRecorder(usage, live, clock)
    dialin = services.dialin
    agi = _agi_server(settings, metrics)
    # The IVR's threads: every store call on a caller's way in (PIN check, live seat, known name).
    directory = ThreadedDirectory(dialin, c.lookup_threads)
    seat_keeper = SeatKeeper(services.seats, live, c.live_seat_renew_s, hold_on=directory.write)
    ami.on_event(seat_keeper.on_event)

    async def current(number: str) -> Reservation | None:
        return await asyncio.to_thread(dialin.current_reservation, number)

    # ConfBridge's recordings of the conferences (issue 19)
    recording = (
        ConferenceRecorder(ami, live, announcer, services.recordings, current, recordings_dir, names_host)
        if recordings_dir is not None and names_host is not None
        else None
    )

    async def known_name(reservation_id: int, caller: str) -> str | None:
        return await directory.run(usage.recorded_name, reservation_id, caller)

    journey = DialInJourney(
        directory,
        c,
        metrics,
        settings.access_numbers,
        names_dir,
        on_join=live.expect,
        seats=live.take_seat,
        known_name=known_name,
        live_seat=seat_keeper.hold,
        recorded=recording.recording if recording is not None else lambda _bridge: False,
    )

    async def remaining(number: str) -> float | None:
        return await asyncio.to_thread(dialin.remaining_seconds, number)

    d = settings.dialout
    calls = services.dialout

    def refused(code: str) -> None:
        metrics.dialout_refused.labels(reason=code).inc()

    dialout = DialOut(ami, calls, d, clock, live, on_refused=refused)
    ami.on_event(dialout.on_event)

    lecture = _lecture_mode(ami, live, announcer)
    menu = KeypadMenu(
        remaining,
        live,
        announcer,
        ami,
        metrics,
        ZoneInfo(c.timezone),
        note_end=recorder.note_end,
        dial=KeypadDial(dialout, current),
        extend=_keypad_extend(services),
        record=recording.toggle if recording is not None else None,
        lecture=LectureKeys(lecture, live),
    )
    invitation = DialOutInvitation(
        calls,
        journey,
        clock,
        ZoneInfo(c.timezone),
        d.invitation_tries,
        c.digit_timeout_ms / 1000,
    )
    agi.add_route(names.AGI_ROUTE_IVR, journey.__call__)
    agi.add_route(names.AGI_ROUTE_MENU, menu.__call__)
    agi.add_route(names.AGI_ROUTE_DIALOUT, invitation.__call__)
    agi.add_route(names.AGI_ROUTE_WEB, _web_join(services, journey, directory, metrics, web_token).__call__)

    endings = services.endings

    async def decide(reservation_id: int, end: datetime, until: datetime) -> EndDecision:
        return await asyncio.to_thread(endings.decide, reservation_id, end, until)

    async def warned(reservation_id: int, end: datetime) -> None:
        await asyncio.to_thread(endings.warned, reservation_id, end)

    async def cap_warned(uniqueid: str) -> None:
        await asyncio.to_thread(usage.mark_cap_warned, uniqueid)

    lifecycle = ConferenceLifecycle(
        live,
        current,
        decide,
        warned,
        announcer,
        clock,
        metrics,
        lead=timedelta(minutes=c.warning_lead_minutes),
        period=timedelta(minutes=c.extension_minutes),
        tick_s=c.lifecycle_tick_s,
        ami=ami,
        is_mobile=lambda number: is_mobile(number, settings.booking.phone_region),
        mobile_cap=timedelta(minutes=c.mobile_cap_minutes),
        mobile_warning=timedelta(minutes=c.mobile_warning_minutes),
        note_end=recorder.note_end,
        cap_warned=cap_warned,
    )
    control = LiveControl(
        ami,
        live,
        announcer,
        note_end=recorder.note_end,
        max_watches=c.live_streams_max,
        max_watches_per_session=c.live_streams_per_session,
    )
    gauges = BookingGauges(services.figures, metrics)  # seats and lockouts of /metrics and the dashboard
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
        lecture=lecture,
        directory=directory,
        live_page=LivePagePort(control, dialout, lecture),
        operations=OperationsPort(live, ami, agi, metrics, gauges),
    )
    controller.run_beside("booking_gauges", gauges.run)
    controller.run_beside("live_seats", seat_keeper.run)
    _keep_files(controller, services, names_host, recording)
    return controller
