"""Settings: defaults in code, overridden by ``DIALCONF_*`` environment variables.

Nested groups use ``__`` in the variable name, e.g. ``DIALCONF_ASTERISK__AMI_PORT=25038``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from booking.api.settings import ApiLimits
from booking.messaging.settings import MessagingSettings
from booking.settings import BookingSettings


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
        "sox",
    ]
    # Instance name: files go under <root>/var/lib/dialconf/<instance>.
    instance: str = "main"
    bind_address: str = "127.0.0.1"
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


class ControllerSettings(BaseModel):
    bind_address: str = "127.0.0.1"
    agi_port: int = 4573
    metrics_port: int = 9120
    # How long a FastAGI peer may take to send its headers before we drop it.
    agi_header_timeout_s: float = 5.0
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
    timezone: str = "Europe/Prague"  # how start times are spoken
    announce_names: bool = True  # "<name> has joined / has left" into the conference
    warning_lead_minutes: float = 5  # R9: the warning tone this long before a booked end
    extension_minutes: float = 15  # R9: a conference is extended a period at a time
    lifecycle_tick_s: float = 1.0  # how often (real seconds) live conferences are checked
    mobile_cap_minutes: float = 70  # R10: calls from mobile networks are cut after this
    mobile_warning_minutes: float = 1  # ...after a spoken warning this long before


class DialOutSettings(BaseModel):
    """Dial-out (R40, R50): the SIP trunk calls leave through, and how calls are retried."""

    trunk_host: str = "127.0.0.1"  # the operator's SBC or carrier; a SIPp UAS in tests
    trunk_port: int = 5070
    from_user: str = "8000"  # the number the called person sees
    channel: str = "PJSIP/{number}@{trunk}"  # how a number becomes the channel to originate
    # Only numbers matching this may be dialled (digits and a leading + are checked first).
    allowed_numbers: str = r"\+?[1-9][0-9]{5,14}"
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
    booking: BookingSettings = Field(default_factory=BookingSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
