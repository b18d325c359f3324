"""Every setting of the booking package, with its defaults: the booking rules (the values the
source documents state, by R-number), ordering by message and notices, the SMS gateway (Kannel),
and how much the API and the web pages take from one client (``ApiLimits``; arithmetic in
docs/security/input-and-limits.md). The process settings (conference_ivr.settings) nest these.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class BookingSettings(BaseModel):
    join_lead_minutes: int = 5  # R28: dial-in opens 5 minutes before the start
    # New reservations get PINs this long; existing ones keep theirs (and a smaller budget).
    # 9 digits keep a 30-day anytime room's guessing odds under 1e-4 (docs/security/pin-guessing.md).
    pin_length: int = 9
    conference_number_length: int = 6
    default_profile: str = "operator"

    system_capacity: int = 200  # R7: seats shared by every booking at any instant
    on_demand_max_minutes: int = 120  # R3, R10
    on_demand_max_seats: int = 20  # R3
    panel_min_lead_minutes: int = 10  # R23
    panel_max_ahead_days: int = 30  # R23
    panel_max_window_days: int = 14  # R24
    panel_max_seats: int = 30  # R30
    anytime_max_seats: int = 30  # R30 applies to anytime rooms too
    max_active_per_profile: int = 3  # R27
    ended_visible_minutes: int = 60  # R27
    # Alternatives offered on a capacity refusal are searched this far either side.
    suggestion_search_hours: int = 24
    suggestions: int = 3
    # No reservation, even one an operator approves, is longer than this: it bounds the
    # capacity query to bookings that start within this span before the window.
    absolute_max_window_days: int = 14
    # R7: the capacity ledger keeps the seats per slot this long (booking.domain.ledger): a check
    # reads its window's slots. Exact whatever the length; bookings on whole slots are cheapest.
    # Another length than the ledger's rebuilds it at the next check.
    capacity_slot_minutes: int = Field(1, ge=1, le=24 * 60)
    # R7 for anytime rooms, which reserve nothing in advance: a live member's seat counts as held
    # from the join until this far ahead, renewed while they talk (booking.services.seats). A
    # booking, or an extension, starting within it must fit beside them; a join that would push
    # the system past what the timed bookings hold is refused.
    live_seat_hold_minutes: int = Field(30, ge=1)

    # Recordings (issue 19) are deleted this long after their session ended (at once when
    # their reservation is deleted).
    recordings_retention_days: float = Field(90, gt=0)
    # Joining from a browser (issue 20): a call token minted when a personal join link's page
    # opens is good for this long (and for one call); the links live as long as their reservation.
    join_token_minutes: float = Field(10, gt=0, le=120)
    # Where invitees open their links: the booking service as they reach it (scheme, host,
    # port, no trailing slash). Empty: the API's bind address and port (fine on one machine).
    join_base_url: str = ""
    phone_region: str = "CZ"  # how caller numbers without a country code are read (mobile or not)

    # PIN guessing across calls (booking.domain.pin_guard; the arithmetic behind the defaults is
    # in docs/security/pin-guessing.md). Per caller number: a lockout past the limit.
    pin_per_caller: int = 5
    pin_window_minutes: float = 60
    pin_lockout_minutes: float = 60
    # Per conference: a budget of wrong guesses per window; past it only callers whose number
    # joined the reservation before are heard (for pin_known_caller_tries wrong ones each).
    pin_per_conference: int = 10
    pin_conference_window_minutes: float = 15
    pin_known_caller_tries: int = 2
    # The web's moderator sign-in: its own counters (per client address, per conference).
    pin_web_per_client: int = 5
    pin_web_per_conference: int = 5
    # A wrong guess waits 1, 2, 4... seconds before the next prompt (or web answer).
    pin_base_delay_s: float = 1.0
    pin_max_delay_s: float = 16.0

    @property
    def join_lead(self) -> timedelta:
        return timedelta(minutes=self.join_lead_minutes)

    @property
    def join_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.join_token_minutes)

    @property
    def ended_visible(self) -> timedelta:
        return timedelta(minutes=self.ended_visible_minutes)

    @property
    def capacity_slot(self) -> timedelta:
        return timedelta(minutes=self.capacity_slot_minutes)

    @property
    def live_seat_hold(self) -> timedelta:
        return timedelta(minutes=self.live_seat_hold_minutes)


# --- several media nodes on one store (issue 21) --------------------------------------


class ClusterPlacementSettings(BaseModel):
    """This media node as the placement of conferences sees it (booking.services.placement).

    ``node`` names it in the store (its legs, seats, leases); ``sip_address`` (host:port) is
    where another node relays a caller whose conference this node hosts.
    """

    node: str = Field(min_length=1, max_length=32)
    sip_address: str = Field(min_length=1, max_length=255)
    seats: int = Field(400, ge=1)  # members this node mixes at most
    lease_ttl_s: float = Field(6.0, gt=0)  # a conference's lease lasts this long unrenewed
    node_dead_after_s: float = Field(6.0, gt=0)  # a node unheard of this long is taken for dead
    in_flight_ttl_s: float = Field(30.0, gt=0)  # a caller placed but never joined stops counting
    # A claim stays on the answering node while its expected fill (booked seats counted) is
    # within this of the least-filled live node's (booking.domain.placement): fewer relays
    # against a little balance (bench/placement_sim.py measures both).
    claim_slack: float = Field(0.05, ge=0, le=1)

    @property
    def lease_ttl(self) -> timedelta:
        return timedelta(seconds=self.lease_ttl_s)

    @property
    def node_dead_after(self) -> timedelta:
        return timedelta(seconds=self.node_dead_after_s)

    @property
    def in_flight_ttl(self) -> timedelta:
        return timedelta(seconds=self.in_flight_ttl_s)


# --- the SMS gateway (Kannel) ------------------------------------------------------------


def _find_binary(name: str) -> Path:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    return Path(found or f"/usr/sbin/{name}")  # a missing binary fails at start, clearly


class KannelBinaries(BaseModel):
    bearerbox: Path = Field(default_factory=lambda: _find_binary("bearerbox"))
    smsbox: Path = Field(default_factory=lambda: _find_binary("smsbox"))


# Values land in the config between double quotes and in URLs: keep them to safe characters.
_TOKEN = r"^[A-Za-z0-9_.\-]{1,64}$"


class KannelSettings(BaseModel):
    """One Kannel (bearerbox + smsbox). Ports differ from Debian's own kannel (13000-13013)."""

    host: str = "127.0.0.1"  # every listener binds here and admits only this address
    admin_port: int = Field(13100, ge=1, le=65535)
    smsbox_port: int = Field(13101, ge=1, le=65535)  # bearerbox <-> smsbox
    fake_smsc_port: int = Field(13110, ge=1, le=65535)  # bearerbox listens; fakesmsc connects
    sendsms_port: int = Field(13113, ge=1, le=65535)
    username: str = Field("dialconf", pattern=_TOKEN)
    password: str | None = Field(None, pattern=_TOKEN)  # None: generated, kept 0600
    # The alphanumeric sender id phones show (GSM allows 11 characters) or a number.
    sender: str = Field("Dialconf", pattern=r"^(?:[A-Za-z0-9]{1,11}|\+?[0-9]{1,15})$")
    incoming_url: str = "http://127.0.0.1:8080/sms/kannel"
    incoming_key: str | None = Field(None, pattern=_TOKEN)  # None: generated, kept 0600
    smsc: Literal["fake"] = "fake"
    max_parts: int = Field(10, ge=1, le=255)  # concatenated SMS per outgoing message
    # smsbox retries a failed forward (booking service down or not 2xx) this often, this apart.
    http_retries: int = Field(10, ge=0)
    http_retry_delay_s: int = Field(10, ge=1)
    binaries: KannelBinaries = Field(default_factory=KannelBinaries)
    smsbox_log_level: int = Field(2, ge=0, le=4)  # 0 debug .. 4 panic; below 2 logs texts (PINs)
    start_timeout_s: float = 20.0
    stop_timeout_s: float = 10.0

    @field_validator("host")
    @classmethod
    def _ipv4(cls, value: str) -> str:
        return str(IPv4Address(value))  # Kannel's allow-lists take IPv4 patterns only

    @field_validator("incoming_url")
    @classmethod
    def _plain_url(cls, value: str) -> str:
        # '%' would be read as a Kannel escape code, '"' would end the config string.
        if not value.startswith(("http://", "https://")) or any(c in value for c in '%" \t\n'):
            raise ValueError("an http(s) URL without '%', quotes or blanks")
        return value


# --- ordering by message, notices (R1, R12, R21, R25, R26) ------------------------------


class NoticeSettings(BaseModel):
    reminder_minutes: int = 60  # R25/R26: the reminder goes out 1 hour before the start
    short_notice_hours: int = 6  # R25: booked this close to the start, one notice at the start
    sms_paid: bool = True  # R21/R26: SMS notices are a paid option (marked for rating)


class DkimSettings(BaseModel):
    """Whether a DKIM signature may stand in for the confirmation round trip (off by default)."""

    trust: bool = False  # act at once on mail a valid DKIM signature of the From domain vouches for
    alignment: Literal["relaxed", "strict"] = "relaxed"  # relaxed: d= may be a parent of the domain
    min_key_bits: int = Field(1024, ge=1024)  # shorter RSA keys are forgeable: such a signature is no proof
    dns_timeout_s: float = Field(5.0, gt=0)  # each key lookup; the lookup runs in a worker thread
    max_signatures: int = Field(3, ge=1)  # aligned signatures tried per message (one DNS lookup each)


class ConfirmSettings(BaseModel):
    """The round trip that proves an e-mail order or cancel came from its From address."""

    code_digits: int = Field(8, ge=6, le=12)
    valid_minutes: int = Field(24 * 60, ge=1)  # a code unused this long is void
    max_wrong_codes: int = Field(3, ge=1)  # wrong codes from the address that void a waiting request
    wrong_codes_per_day: int = Field(10, ge=1)  # per address and 24 h: past it, codes are not checked
    max_waiting: int = Field(3, ge=1)  # requests of one address waiting for their code at once


class MailSettings(BaseModel):
    intake: bool = True  # run the SMTP intake server
    bind_address: str = "127.0.0.1"
    intake_port: int = 2525
    booking_address: str = "conference@localhost"  # R1: the service address orders go to
    subject: str = "conference"  # R1: the fixed subject of an order (case and spaces ignored)
    relay_host: str = "127.0.0.1"  # replies and notices go out through this SMTP relay
    relay_port: int = 25
    from_address: str = "conference@localhost"
    # R3/R4: each request that enters the operator queue is mailed here ("" sends none), in this
    # language (a text catalogue's: en cs pl de fr).
    operator_address: str = "operator@localhost"
    operator_language: str = "en"
    max_bytes: int = 256 * 1024  # an order is a line of text; anything bigger is refused
    new_senders_per_domain_per_hour: int = Field(10, ge=0)  # new profiles per From domain per hour
    dkim: DkimSettings = Field(default_factory=DkimSettings)
    confirm: ConfirmSettings = Field(default_factory=ConfirmSettings)


class MonthEndSettings(BaseModel):
    """The month-end run (R51): each organizer's statement e-mailed with its PDF and CSV."""

    run: bool = True  # the messaging runtime (dialconf run) runs it on its own
    check_s: float = Field(300.0, gt=0)  # how often (real seconds) it looks whether a month is due
    # A month is billed this long after it ended (service time zone, by the service's clock): a
    # call that crossed midnight has closed by then.
    delay_hours: float = Field(6.0, ge=0)
    pdf_font: Path | None = None  # a TrueType font for the PDF; None: DejaVu Sans if installed


class MessagingSettings(BaseModel):
    service_name: str = "Dialconf"  # R26: the sender shown on SMS notices, and in texts
    timezone: str | None = None  # how dates in texts are read and written; None: the controller's
    default_language: str = "cs"  # replies to a sender whose language is not known yet
    hourly_limit: int = 10  # R12: messages a sender may send per hour before it is refused
    # A flood of new addresses or numbers would each get a fresh hourly limit: new senders (each
    # a new profile) are limited too, per channel (and per e-mail domain, see mail).
    new_senders_per_hour: int = Field(60, ge=0)
    dispatch_tick_s: float = 1.0  # how often (real seconds) the outbox is looked at
    retry_s: float = 60.0  # a failed send is tried again after this (doubling)
    max_attempts: int = 8
    sms: bool = True  # run Kannel (SMS in and out)
    kannel: KannelSettings = Field(default_factory=KannelSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    month_end: MonthEndSettings = Field(default_factory=MonthEndSettings)


# --- the API's and the web pages' limits -------------------------------------------------


KIB = 1024


class Budget(BaseModel):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)


class ApiLimits(BaseModel):
    # Bodies are cut at these sizes before anything parses them (413 Content Too Large).
    max_body_bytes: int = Field(default=64 * KIB, ge=1)  # the API's JSON bodies
    # Forms: the invitation's 20 000 characters, percent-encoded, need more than the API's cap.
    panel_max_body_bytes: int = Field(default=256 * KIB, ge=1)
    # Routes whose bodies are larger by design: path pattern (a regex matched against the whole
    # path) to cap. The tariff file (200 000 characters); the invitation (20 000, JSON-escaped).
    large_bodies: dict[str, int] = Field(
        default_factory=lambda: {
            r"/api/tariff": 512 * KIB,
            r"/api/reservations/[0-9]+/invitation": 256 * KIB,
        }
    )
    # After a 413 the rest of the body is read and dropped for this long before the connection
    # closes, so the answer reaches a client still uploading (booking.api.body_limit).
    body_linger_s: float = Field(default=2.0, ge=0, le=30)
    # Requests being served at once (event streams leave the count when their answer starts);
    # beyond it 503 with Retry-After. Bounds the memory bodies in flight can hold.
    max_in_flight: int = Field(default=64, ge=1)
    busy_retry_after_s: int = Field(default=1, ge=1)
    # Per client address (request.client.host; IPv6 by its /ipv6_prefix network).
    rate_limit: bool = True
    api: Budget = Field(default_factory=lambda: Budget(per_second=10, burst=100))
    panel: Budget = Field(default_factory=lambda: Budget(per_second=10, burst=100))
    # Spent by every request that presents no credential, and by every 401/403 answer; while it
    # is empty nothing from that client is served.
    unauthenticated: Budget = Field(default_factory=lambda: Budget(per_second=1, burst=30))
    # Spent by every sign-in form sent (POST /panel/login...), on top of the budgets above.
    sign_in: Budget = Field(default_factory=lambda: Budget(per_second=0.1, burst=10))
    # Spent by every personal join page request (GET /join/{link}, its name and its polling),
    # on top of the others: opening links costs a guesser, and a 404 (unknown or forged link)
    # also spends the unauthenticated budget. The page polls every 3 s: 1/s refills that.
    join: Budget = Field(default_factory=lambda: Budget(per_second=1, burst=30))
    max_clients: int = Field(default=10_000, ge=1)  # remembered at once; the oldest are forgotten
    ipv6_prefix: int = Field(default=64, ge=1, le=128)
    # Connections uvicorn accepts at once (its limit_concurrency): beyond them it answers 503.
    max_connections: int = Field(default=1000, ge=1)
