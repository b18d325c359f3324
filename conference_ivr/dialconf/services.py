"""Every use case of the booking store, built once per process from settings.

``build_services`` is where the store, the clock and the services meet: each process's
composition root (``dialconf run``/``serve``, every CLI command, a test's harness) calls it
once and hands the services on. Nothing else constructs a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Engine

from booking.adapters.kept_secret import kept_secret
from booking.adapters.statement_pdf import StatementPdf
from booking.domain.clock import Clock, EpochScaledClock, SystemClock
from booking.domain.compose import Composer
from booking.domain.dialout_policy import CallCaps, NumberPolicy
from booking.domain.errors import SecretFileError
from booking.domain.join_links import Signer
from booking.domain.messages import Kind
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.confirmations import ConfirmationCodes
from booking.services.dialin import DialInService
from booking.services.dialout import DialOutRules, DialOutService
from booking.services.dispatcher import Dispatcher
from booking.services.endings import EndDecisions
from booking.services.extensions import MessageExtensions
from booking.services.figures import FiguresService
from booking.services.gateways import MailGateway, SmsGateway
from booking.services.join_links import JoinLinkService
from booking.services.messaging import MessagingService
from booking.services.month_end import MonthEndService
from booking.services.notice_hook import MessagingHook
from booking.services.notices import NoticePlanner
from booking.services.orders import OrderDesk
from booking.services.placement import PlacementService
from booking.services.ports import Transaction, UnitOfWork
from booking.services.queue_alert import QueueAlert
from booking.services.recordings import RecordingService
from booking.services.replies import Recorder
from booking.services.reports import SessionReports
from booking.services.seats import LiveSeats
from booking.services.senders import SenderGate
from booking.services.usage import LegClosed, UsageService
from booking.settings import ClusterPlacementSettings
from booking.store.engine import make_engine
from booking.store.unit_of_work import SqlTransaction, SqlUnitOfWork
from booking.web.session_store import SessionStore
from conference_ivr.errors import DialconfError
from conference_ivr.settings import ClockSettings, Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    uow: SqlUnitOfWork  # the services take it as their port (booking.services.ports.UnitOfWork)
    booking: BookingService
    dialin: DialInService
    usage: UsageService
    dialout: DialOutService
    messaging: MessagingService
    billing: BillingService
    figures: FiguresService
    seats: LiveSeats  # the seats live members of anytime rooms hold (R7)
    web_sessions: SessionStore
    endings: EndDecisions  # the booked end of running conferences, decided once (R9)
    month_end: MonthEndService  # each month's statements e-mailed (R51)
    recordings: RecordingService  # the conferences' recordings (issue 19)
    join_links: JoinLinkService  # the browsers' personal join links and call tokens (issue 20)
    placement: PlacementService | None = None  # several media nodes (issue 21); None: one

    def close(self) -> None:
        """Close the store's connections (a process that is done with them)."""
        self.uow.engine.dispose()


def timezone(settings: Settings) -> ZoneInfo:
    """How dates are read and written in texts and pages: the service's time zone."""
    return ZoneInfo(settings.messaging.timezone or settings.controller.timezone)


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


def clock_from(settings: ClockSettings) -> Clock:
    """The process's clock: the system's, unless a test or a demo compresses time."""
    if settings.speed == 1:
        return SystemClock()  # epoch + (now - epoch) * 1 is now, whatever the epoch
    epoch = settings.epoch or datetime.now(UTC)
    # Loud on purpose: on a system with real callers this would end their conferences early.
    log.warning("clock.compressed", speed=settings.speed, epoch=epoch.isoformat())
    return EpochScaledClock(epoch, settings.speed)


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    engine: Engine | None = None,
    sms: SmsGateway | None = None,
    mail: MailGateway | None = None,
) -> Services:
    """Every service over one unit of work. ``sms``/``mail``: the gateways the outbox sends
    through (without them it stays unsent: a process that only books, or a CLI command).
    ``clock``: a test's; without it, the one the settings give (``clock_from``)."""
    clock = clock or clock_from(settings.clock)
    uow = SqlUnitOfWork(engine or make_engine(settings.database_url))
    rules, m = settings.booking, settings.messaging
    planner = NoticePlanner(m.notices)
    composer = Composer(settings.access_numbers, timezone(settings), m.service_name, rules)
    alert = QueueAlert(composer, m.mail.operator_address, m.mail.operator_language)
    # Notices to invitees, and the operator's alert, are planned inside the booking's own transactions.
    booking = BookingService(uow, clock, rules, on_change=MessagingHook(planner, alert))
    dialin = DialInService(uow, clock, rules)
    node = settings.cluster.node  # '' on one machine; several media nodes: issue 21
    seats = LiveSeats(uow, clock, rules, node=node)
    recorder = Recorder(uow, clock)
    gate = SenderGate(uow, clock, m, recorder)
    codes = ConfirmationCodes(uow, clock, m.mail.confirm, recorder, composer.tz)
    endings = EndDecisions(uow, clock, booking, rules)
    period = timedelta(minutes=settings.controller.extension_minutes)  # R9's period, the keypad's too
    extensions = MessageExtensions(booking, endings, clock, rules, composer, recorder, period)
    desk = OrderDesk(booking, uow, clock, rules, composer, m, recorder, gate, codes, extensions)
    dispatcher = Dispatcher(uow, clock, composer, m, sms, mail)
    join_links = JoinLinkService(uow, clock, rules, Signer(join_secret(settings)), join_base_url(settings))
    messaging = MessagingService(booking, uow, clock, rules, composer, planner, desk, dispatcher, join_links)
    # A price change is announced by SMS (R62) through the outbox, which the running service's
    # dispatcher sends, whichever process loaded the tariff.
    billing = BillingService(uow, clock, timezone(settings), messaging.announce_price_change)
    # The post-conference report (R53): queued as a session's last leg closes, rendered when sent.
    reports = SessionReports(uow, billing, m.service_name, timezone(settings))
    dispatcher.add_renderer(Kind.REPORT, reports.render)
    me = m.month_end
    pdf = StatementPdf(m.service_name, timezone(settings), me.pdf_font)
    month_end = MonthEndService(uow, clock, billing, me, m.service_name, pdf, messaging.wake)
    return Services(
        settings=settings,
        clock=clock,
        uow=uow,
        booking=booking,
        dialin=dialin,
        usage=UsageService(uow, clock, rules, on_closed=reports.queue, node=node),
        dialout=DialOutService(uow, clock, dialout_rules(settings)),
        messaging=messaging,
        billing=billing,
        figures=FiguresService(uow, clock, rules, dialin, seats),
        seats=seats,
        web_sessions=SessionStore(uow, clock),
        endings=endings,
        month_end=month_end,
        recordings=RecordingService(uow, clock),
        join_links=join_links,
        placement=_placement(settings, uow, clock, reports.queue),
    )


def _placement(
    settings: Settings, uow: SqlUnitOfWork, clock: Clock, on_closed: LegClosed
) -> PlacementService | None:
    """Which node mixes each conference, with several media nodes (None on one machine)."""
    c = settings.cluster
    if not c.enabled:
        return None
    placement = ClusterPlacementSettings(
        node=c.node,
        sip_address=c.nodes[c.node],
        seats=c.seats,
        lease_ttl_s=c.lease_ttl_s,
        node_dead_after_s=c.node_dead_after_s,
        in_flight_ttl_s=c.in_flight_ttl_s,
        claim_slack=c.claim_slack,
    )
    return PlacementService(uow, clock, placement, on_closed=on_closed)


def operator_token_file(settings: Settings) -> Path:
    return settings.data_dir / "operator.token"


def operator_token(settings: Settings) -> str:
    """The configured operator token, or one generated once and kept (0600) in the data dir."""
    if settings.api.operator_token:
        return settings.api.operator_token
    try:
        return kept_secret(operator_token_file(settings))
    except SecretFileError as e:
        raise DialconfError(f"{e} (the operator token)") from e


def web_secret(settings: Settings) -> str:
    """What signs the web pages' session cookies: generated once, kept (0600) in the data dir."""
    return kept_secret(settings.data_dir / "web.secret")


def join_secret(settings: Settings) -> str:
    """What signs the join links and call tokens (issue 20): generated once, kept (0600)."""
    try:
        return kept_secret(settings.data_dir / "join.secret")
    except SecretFileError as e:
        raise DialconfError(f"{e} (the join links' secret)") from e


def join_base_url(settings: Settings) -> str:
    """Where invitees open their join links: the setting, else this machine's API address."""
    return settings.booking.join_base_url or f"http://{settings.api.bind_address}:{settings.api.port}"


def _sql_store_implements_the_ports(uow: SqlUnitOfWork, tx: SqlTransaction) -> tuple[UnitOfWork, Transaction]:
    """Never called: mypy proves here that the SQL store is what the services are written
    against (each repository against its protocol), so a missing or changed method fails lint."""
    return uow, tx
