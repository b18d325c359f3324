"""The composition root's controller: FastAGI routes (the journey, the keypad, the dial-out
invitation, the browser's and the cluster's), AMI, the one live model and everything that
listens to it, built once from the services (conference_ivr/dialconf/services.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from prometheus_client import Histogram

from booking.domain.live import EndDecision
from booking.domain.model import Reservation
from booking.domain.usage import Leg, is_mobile
from booking.services.join_links import Redeemed
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.conference.announcer import Announcer, NameAnnouncements
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.conference.control import LiveControl
from conference_ivr.conference.dialout import DialOut, KeypadDial
from conference_ivr.conference.lecture import LectureMode
from conference_ivr.conference.lifecycle import ConferenceLifecycle
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Arrival
from conference_ivr.conference.name_keeper import NameKeeper
from conference_ivr.conference.recorder import ConferenceRecorder
from conference_ivr.conference.recording_keeper import RecordingKeeper
from conference_ivr.conference.seat_keeper import SeatKeeper
from conference_ivr.conference.usage_recorder import UsageRecorder
from conference_ivr.conference.web_port import LivePagePort, OperationsPort
from conference_ivr.controller import Controller
from conference_ivr.dialconf.cluster_parts import add_cluster_routes, build_cluster
from conference_ivr.dialconf.services import (
    Services,
)
from conference_ivr.ivr.directory import ThreadedDirectory
from conference_ivr.ivr.invitation import DialOutInvitation
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.ivr.lecture_keys import LectureKeys
from conference_ivr.ivr.menu import KeypadMenu
from conference_ivr.ivr.web_join import TokenSource, WebJoin, sip_header_token
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import Settings


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


def _lifecycle(
    services: Services,
    live: LiveConferences,
    current: Callable[[str], Awaitable[Reservation | None]],
    announcer: Announcer,
    metrics: Metrics,
    ami: AmiClient,
    recorder: UsageRecorder,
) -> ConferenceLifecycle:
    """The booked end and the mobile cap of the conferences mixed here, decided in the store."""
    settings, clock, usage = services.settings, services.clock, services.usage
    c = settings.controller
    endings = services.endings

    async def decide(reservation_id: int, end: datetime, until: datetime) -> EndDecision:
        return await asyncio.to_thread(endings.decide, reservation_id, end, until)

    async def warned(reservation_id: int, end: datetime) -> None:
        await asyncio.to_thread(endings.warned, reservation_id, end)

    async def cap_warned(uniqueid: str) -> None:
        await asyncio.to_thread(usage.mark_cap_warned, uniqueid)

    return ConferenceLifecycle(
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


def _dialout(services: Services, ami: AmiClient, live: LiveConferences, metrics: Metrics) -> DialOut:
    def refused(code: str) -> None:
        metrics.dialout_refused.labels(reason=code).inc()

    dialout = DialOut(
        ami, services.dialout, services.settings.dialout, services.clock, live, on_refused=refused
    )
    ami.on_event(dialout.on_event)
    return dialout


def _menu(
    services: Services,
    live: LiveConferences,
    announcer: Announcer,
    ami: AmiClient,
    metrics: Metrics,
    recorder: UsageRecorder,
    dialout: DialOut,
    current: Callable[[str], Awaitable[Reservation | None]],
    recording: ConferenceRecorder | None,
    lecture: LectureMode,
) -> KeypadMenu:
    """The keypad inside a conference (ConfBridge menus' dialplan_exec)."""
    dialin = services.dialin

    async def remaining(number: str) -> float | None:
        return await asyncio.to_thread(dialin.remaining_seconds, number)

    return KeypadMenu(
        remaining,
        live,
        announcer,
        ami,
        metrics,
        ZoneInfo(services.settings.controller.timezone),
        note_end=recorder.note_end,
        dial=KeypadDial(dialout, current),
        extend=_keypad_extend(services),
        record=recording.toggle if recording is not None else None,
        lecture=LectureKeys(lecture, live),
    )


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

    # several media nodes (issue 21): where each admitted caller's conference is mixed
    cluster = build_cluster(services, live, ami, metrics, directory)

    def joined(member: Arrival, answered: float) -> None:
        live.expect(member, answered)
        if cluster is not None:
            cluster.placer.note_joined(member.uniqueid)

    journey = DialInJourney(
        directory,
        c,
        metrics,
        settings.access_numbers,
        names_dir,
        on_join=joined,
        seats=live.take_seat,
        known_name=known_name,
        live_seat=seat_keeper.hold,
        recorded=recording.recording if recording is not None else lambda _bridge: False,
        place=cluster.placer.__call__ if cluster is not None else None,
    )

    d = settings.dialout
    calls = services.dialout
    dialout = _dialout(services, ami, live, metrics)
    lecture = _lecture_mode(ami, live, announcer)
    menu = _menu(services, live, announcer, ami, metrics, recorder, dialout, current, recording, lecture)
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
    if cluster is not None:
        add_cluster_routes(cluster, agi, journey, services, metrics, current)

    lifecycle = _lifecycle(services, live, current, announcer, metrics, ami, recorder)
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
        operations=OperationsPort(
            live, ami, agi, metrics, gauges, cluster.hosting.rows if cluster is not None else list
        ),
    )
    controller.run_beside("booking_gauges", gauges.run)
    controller.run_beside("live_seats", seat_keeper.run)
    _keep_files(controller, services, names_host, recording)
    if cluster is not None:
        controller.run_beside("cluster", cluster.hosting.run)
    return controller
