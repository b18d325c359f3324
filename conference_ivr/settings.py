"""Settings: defaults in code, overridden by ``DIALCONF_*`` environment variables.

Nested groups use ``__`` in the variable name, e.g. ``DIALCONF_ASTERISK__AMI_PORT=25038``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from booking.domain.dialout_policy import DEFAULT_KINDS, DialFormat, NumberKind
from booking.settings import ApiLimits, BookingSettings, MessagingSettings
from conference_ivr.bind import connect_host, host_network, is_loopback, is_wildcard
from conference_ivr.cluster_settings import ClusterSettings


class AsteriskSettings(BaseModel):
    """Where Asterisk comes from and how the rendered instance listens."""

    # An installed Asterisk >= min_version is used; otherwise a Debian root is built here.
    root_cache: Path = Path("/var/cache/dialconf/asterisk-root")
    suite: str = "sid"
    min_version: int = 20
    packages: list[str] = [
        "asterisk",
        "asterisk-core-sounds-en-gsm",
        "asterisk-core-sounds-fr-gsm",
        "asterisk-prompt-de",
        # Asterisk's own hold music (Opsound, CC-BY-SA): what participants hear while they
        # wait for the moderator (asterisk/musiconhold.conf).
        "asterisk-moh-opsound-gsm",
        "sox",
    ]
    # Instance name: files go under <root>/var/lib/dialconf/<instance>.
    instance: str = "main"
    # Each listener binds on its own address. SIP is what callers reach: open it (0.0.0.0, or
    # one interface) to let softphones and trunks elsewhere in. AMI and Asterisk's HTTP server
    # stay on loopback: AMI can originate calls (toll fraud) and steer every conference.
    sip_bind_address: str = "127.0.0.1"
    # Where RTP binds and what SDP announces; empty: the SIP bind address. A wildcard SIP bind
    # needs a real address here (0.0.0.0 in SDP leaves callers without audio).
    media_address: str = ""
    ami_bind_address: str = "127.0.0.1"
    # A non-loopback AMI is refused unless this is set: then only ami_permit may log in.
    allow_remote_ami: bool = False
    # Networks (address/prefix) whose AMI logins are accepted; empty: only the address the
    # controller connects to (loopback by default).
    ami_permit: list[str] = []
    http_bind_address: str = "127.0.0.1"
    ami_port: int = 15038
    ami_user: str = "dialconf"
    ami_secret: str | None = None  # None: generated once and kept in the instance directory
    http_port: int = 18088
    sip_port: int = 5060
    # Two ports (RTP + RTCP) per call: 10 000 ports carry 5 000 calls, far beyond the seats a
    # machine mixes (bench/results/media-*.md); a narrow band would refuse calls before seats.
    rtp_start: int = 10000
    rtp_end: int = 20000
    boot_timeout_s: float = 30.0
    stop_timeout_s: float = 10.0
    # A `trace` log of every prompt played and every key received (verbose 3 and DTMF), which
    # the join-storm benchmark reads. It holds every digit callers key, PINs included: never on
    # a system with real callers. Off, no file Asterisk writes holds a keyed digit.
    trace_log: bool = False

    @model_validator(mode="before")
    @classmethod
    def _no_single_bind_address(cls, data: object) -> object:
        if isinstance(data, dict) and "bind_address" in data:
            raise ValueError(
                "DIALCONF_ASTERISK__BIND_ADDRESS was split: set DIALCONF_ASTERISK__SIP_BIND_ADDRESS "
                "(and MEDIA_ADDRESS) to let callers in; AMI_BIND_ADDRESS and HTTP_BIND_ADDRESS stay "
                "on loopback unless you mean otherwise"
            )
        return data

    @model_validator(mode="after")
    def _listeners_are_safe(self) -> AsteriskSettings:
        if not is_loopback(self.ami_bind_address) and not self.allow_remote_ami:
            raise ValueError(
                f"AMI would listen on {self.ami_bind_address}, beyond this machine: AMI originates "
                "calls and controls every conference. Keep DIALCONF_ASTERISK__AMI_BIND_ADDRESS on "
                "loopback, or set DIALCONF_ASTERISK__ALLOW_REMOTE_AMI=true (and "
                "DIALCONF_ASTERISK__AMI_PERMIT) to accept it."
            )
        if is_wildcard(self.rtp_address):
            raise ValueError(
                "SIP binds every interface: set DIALCONF_ASTERISK__MEDIA_ADDRESS to the address "
                "callers reach this machine at (SDP cannot announce a wildcard)"
            )
        for network in self.ami_permits:
            host, _, prefix = network.partition("/")
            host_network(host)  # an IP address, or ValueError naming it
            if prefix and not prefix.isdigit():
                raise ValueError(f"ami_permit {network!r}: write address/prefix, e.g. 10.0.0.5/32")
        return self

    @property
    def rtp_address(self) -> str:
        return self.media_address or self.sip_bind_address

    @property
    def ami_host(self) -> str:
        """Where the controller (and any local client) connects to AMI."""
        return connect_host(self.ami_bind_address)

    @property
    def http_host(self) -> str:
        return connect_host(self.http_bind_address)

    @property
    def sip_host(self) -> str:
        return connect_host(self.sip_bind_address)

    @property
    def ami_permits(self) -> list[str]:
        return self.ami_permit or [host_network(self.ami_host)]


class WebRtcSettings(BaseModel):
    """Joining from a browser (issue 20): the page's SIP over WebSocket into Asterisk's HTTP
    server (asterisk.http_bind_address / http_port), its media by ICE and DTLS-SRTP."""

    # A PEM certificate (with its chain) and its private key, paths as Asterisk reads them
    # (inside its root when it runs in one). Both set: Asterisk's HTTP server also serves TLS on
    # tls_bind_address:tls_port and the page uses wss://. Without them the page uses ws://,
    # which a browser allows only to a page on this machine or behind a TLS proxy (ws_url).
    cert_file: str = ""
    key_file: str = ""
    tls_bind_address: str = "127.0.0.1"
    tls_port: int = 8089
    # What the join page connects to; empty: derived from the listeners above. Set it when a
    # TLS proxy sits in front, e.g. wss://conference.example.org/ws.
    ws_url: str = ""
    # The address Asterisk offers browsers as its ICE host candidate and binds their RTP to;
    # empty: every interface's (Asterisk never offers a loopback address). No STUN or TURN.
    media_address: str = ""
    # The public join page keys 1 this long after the IVR answers, then key_gap_ms later the
    # conference number and the PIN in one go: keys interrupt the prompt, like a caller's.
    first_key_ms: int = Field(default=2500, ge=0)
    key_gap_ms: int = Field(default=1500, ge=0)

    @model_validator(mode="after")
    def _certificate_with_key(self) -> WebRtcSettings:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError(
                "webrtc: set both DIALCONF_WEBRTC__CERT_FILE and DIALCONF_WEBRTC__KEY_FILE for wss "
                "(or neither for ws)"
            )
        if self.ws_url and not self.ws_url.startswith(("ws://", "wss://")):
            raise ValueError(f"webrtc.ws_url {self.ws_url!r}: write ws://host:port/ws or wss://...")
        return self

    @property
    def tls(self) -> bool:
        return bool(self.cert_file)

    def page_url(self, asterisk: AsteriskSettings) -> str:
        """The WebSocket URL the join page's phone connects to."""
        if self.ws_url:
            return self.ws_url
        if self.tls:
            return f"wss://{_url_host(connect_host(self.tls_bind_address))}:{self.tls_port}/ws"
        return f"ws://{_url_host(asterisk.http_host)}:{asterisk.http_port}/ws"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class ControllerSettings(BaseModel):
    bind_address: str = "127.0.0.1"
    agi_port: int = 4573
    metrics_port: int = 9120
    # How long a FastAGI peer may take to send its headers before we drop it.
    agi_header_timeout_s: float = 5.0
    # FastAGI peers (addresses or networks) whose connections are served; any other is closed
    # at once. Asterisk runs beside the controller; add its address if it runs elsewhere.
    agi_allowed_peers: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # Sessions served at once; beyond it a new connection is closed at once. A session lasts
    # only until the caller is sent into ConfBridge (the dialplan runs the conference), so
    # this is far above the seats a machine mixes (about 300 talkers on 2 cores).
    agi_max_sessions: int = Field(default=1000, ge=1)
    # How long one AGI command may wait for its reply beyond what the command itself waits
    # (a Read's digit timeouts, a Wait's seconds, a RECORD FILE's length are added to it).
    agi_reply_timeout_s: float = Field(default=60.0, gt=0)
    ami_reconnect_s: float = 1.0
    digit_timeout_ms: int = 6000
    # Threads for the IVR's booking lookups (conference number, PIN): its own, so callers never
    # wait behind other database work; two keep one slow lookup from holding up the rest.
    lookup_threads: int = 2
    # sys.setswitchinterval: how long a lookup thread may keep the GIL from the event loop
    # when both want it (CPython's default, 5 ms, shows up in every caller's p99).
    gil_switch_ms: float = 1.0
    max_pin_tries: int = 3  # per call; across calls see BookingSettings.pin_*
    name_max_ms: int = 4000  # the recorded name is short
    # Whole seconds of silence that end the name recording (AGI RECORD FILE counts whole
    # seconds; 0 would wait for '#' or name_max_ms): one is a pause after a name, not in it.
    name_silence_s: int = Field(default=1, ge=0)
    timezone: str = "Europe/Prague"  # how start times are spoken
    announce_names: bool = True  # "<name> has joined / has left" into the conference
    # Recorded names are deleted this long after the call that recorded them ended (at once
    # when their reservation is deleted); checked every names_sweep_s.
    names_retention_days: float = 30
    names_sweep_s: float = 600
    # How often the recordings past booking.recordings_retention_days are looked for.
    recordings_sweep_s: float = 600
    # How often (real seconds) anytime rooms' members renew the seats they hold (R7); well
    # under booking.live_seat_hold_minutes, which they are held ahead for.
    live_seat_renew_s: float = 60
    warning_lead_minutes: float = 5  # R9: the warning tone this long before a booked end
    extension_minutes: float = 15  # R9: a conference is extended a period at a time
    lifecycle_tick_s: float = 1.0  # how often (real seconds) live conferences are checked
    mobile_cap_minutes: float = 70  # R10: calls from mobile networks are cut after this
    mobile_warning_minutes: float = 1  # ...after a spoken warning this long before
    live_streams_max: int = Field(default=200, ge=1)  # live-page event streams, all sessions
    live_streams_per_session: int = Field(default=4, ge=1)  # ...and per signed-in session


class DialOutSettings(BaseModel):
    """Dial-out (R40, R50): the SIP trunk calls leave through, and how calls are retried."""

    trunk_host: str = "127.0.0.1"  # the operator's SBC or carrier; a SIPp UAS in tests
    trunk_port: int = 5070
    from_user: str = "8000"  # the number the called person sees
    channel: str = "PJSIP/{number}@{trunk}"  # how a number becomes the channel to originate
    # What the trunk is sent: e164 (+420601234567), digits (420601234567) or national (as a
    # phone in the home region dials it: 601234567, 0044...).
    dial_format: DialFormat = DialFormat.E164
    # Which numbers may be called (toll fraud): the home region's (booking.phone_region) of
    # these phonenumbers types; other regions only if listed here ("001": satellite and
    # international networks). Premium rate and shared cost only if listed in allowed_types.
    allowed_types: list[NumberKind] = Field(default_factory=lambda: sorted(DEFAULT_KINDS))
    allowed_regions: list[str] = Field(default_factory=list)
    # An extra filter of the operator's, matched against the E.164 form.
    allowed_numbers: str = r"\+?[1-9][0-9]{5,14}"
    # Caps, counted over the calls placed (each rings at most max_attempts times): per
    # reservation per day (its start's calls included) and per minute (moderator and web
    # requests); per profile per hour and per day.
    reservation_calls_per_day: int = Field(default=60, ge=0)
    reservation_calls_per_minute: int = Field(default=30, ge=0)
    profile_calls_per_hour: int = Field(default=100, ge=0)
    profile_calls_per_day: int = Field(default=300, ge=0)
    max_ringing: int = Field(default=5, ge=1)  # calls ringing at once; the rest wait their turn
    ring_s: float = 30.0  # how long a call rings before it counts as not answered
    max_attempts: int = 3  # per call: no answer and busy are tried again
    retry_s: float = 60.0  # clock seconds between attempts
    invitation_tries: int = 3  # times the invitation is said while waiting for 1
    tick_s: float = 1.0  # how often (real seconds) due calls are looked for


class ApiSettings(BaseModel):
    bind_address: str = "127.0.0.1"
    port: int = 8080
    # Bearer token of the operator endpoints. None: generated once and kept (0600) in
    # <data_dir>/operator.token.
    operator_token: str | None = None
    # Body, in-flight and per-client rate limits of the API and the web pages.
    limits: ApiLimits = Field(default_factory=ApiLimits)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, e.g. ["127.0.0.1"] for a proxy on this machine). None by default: the client
    # address is the TCP peer's, so no one can pick their own (limits key on it).
    trusted_proxies: list[str] = []
    # The session cookies' Secure flag. None: on, unless the API binds to loopback (plain
    # HTTP on this machine); behind a TLS proxy on this machine set it true.
    cookie_secure: bool | None = None
    session_hours: float = 12  # a web session ends this long after signing in
    signin_form_minutes: float = 60  # how long a sign-in form may sit before it is sent
    # A browser that signed in as a conference's moderator is still heard while that
    # conference's web sign-in is throttled by guessing, for this long.
    known_moderator_days: float = 30

    @model_validator(mode="after")
    def _proxies_are_networks(self) -> ApiSettings:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {proxy!r} is not an address or network (a proxy's "
                    "address, e.g. 127.0.0.1 or 10.0.0.0/24; '*' is not accepted)"
                ) from None
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else not is_loopback(self.bind_address)


class ClockSettings(BaseModel):
    """For tests and demos only: time runs ``speed`` times faster from ``epoch``.

    Every duration (booked ends, warnings, mobile caps) is read from this clock, so a demo shows
    a two-hour conference in minutes. Two processes given the same epoch and speed read the same
    time (``booking.domain.clock.EpochScaledClock``): a test kills the controller and starts it
    again in compressed time. Never on a system with real callers.
    """

    speed: float = Field(default=1.0, gt=0)
    # An ISO 8601 time with its offset, e.g. 2025-01-01T12:00:00+00:00. None: when the process
    # starts (then no other process shares this clock).
    epoch: AwareDatetime | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALCONF_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = "sqlite:///var/dialconf.db"
    log_level: str = "info"
    # Access numbers callers dial, each with the language its callers hear first.
    access_numbers: dict[str, str] = Field(default_factory=lambda: {"8000": "en"})
    asterisk: AsteriskSettings = Field(default_factory=AsteriskSettings)
    controller: ControllerSettings = Field(default_factory=ControllerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    dialout: DialOutSettings = Field(default_factory=DialOutSettings)
    webrtc: WebRtcSettings = Field(default_factory=WebRtcSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    clock: ClockSettings = Field(default_factory=ClockSettings)
