"""A whole system for tests: a real Asterisk instance plus the controller and a booking store."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from booking.domain.clock import Clock, SystemClock
from booking.services.booking import BookingService
from booking.settings import BookingSettings
from booking.store.migrate import upgrade
from conference_ivr.ami.client import AmiClient
from conference_ivr.controller import Controller
from conference_ivr.dialconf.compose_controller import build_controller
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.errors import AmiError
from conference_ivr.ivr.sounds import install_sounds
from conference_ivr.ivr.web_join import TokenSource
from conference_ivr.pbx import names
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import provision
from conference_ivr.settings import AsteriskSettings, ControllerSettings, Settings
from tests.support.caller import LocalCaller
from tests.support.events import EventLog
from tests.support.ports import free_ports


def isolated_settings(tmp: Path, name: str = "t") -> Settings:
    """Settings for an isolated instance: own directories, database and free ports."""
    ami, http, agi, metrics, api, intake, relay, k_admin, k_box, k_smsc, k_send = free_ports(11)
    (sip,) = free_ports(1, socket.SOCK_DGRAM)
    # Each xdist worker (gw0, gw1...) gets its own band of RTP ports; a pid offset inside it
    # keeps two test runs on one machine apart too.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    rtp = 20000 + worker * 2000 + (os.getpid() % 19) * 100
    return Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'booking.db'}",
        access_numbers={"8000": "en", "8001": "cs"},
        asterisk=AsteriskSettings(
            instance=f"{name}{os.getpid()}",
            ami_port=ami,
            http_port=http,
            sip_port=sip,
            rtp_start=rtp,
            rtp_end=rtp + 98,
        ),
        controller=ControllerSettings(agi_port=agi, metrics_port=metrics, digit_timeout_ms=4000),
        api={"port": api},
        messaging={
            "mail": {"intake_port": intake, "relay_port": relay},
            "kannel": {
                "admin_port": k_admin,
                "smsbox_port": k_box,
                "fake_smsc_port": k_smsc,
                "sendsms_port": k_send,
            },
        },
        # Fast PIN-guessing delays and small limits, so lockouts and throttles happen within a
        # test (a conference's budget above a caller's limit: one guesser alone never throttles).
        booking=BookingSettings(
            pin_per_caller=4,
            pin_per_conference=8,
            pin_web_per_client=5,
            pin_web_per_conference=8,
            pin_base_delay_s=0.1,
            pin_max_delay_s=0.2,
        ),
    )


@asynccontextmanager
async def running_asterisk(settings: Settings) -> AsyncIterator[AsteriskProcess]:
    install = provision(settings.asterisk)
    install_sounds(install)
    proc = AsteriskProcess(AsteriskInstance(install, settings))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        # the instance (config, logs, recorded names) lives in the shared cached root
        if not os.environ.get("DIALCONF_KEEP_INSTANCES"):
            shutil.rmtree(proc.instance.host(), ignore_errors=True)


_numbers = itertools.count(1000)


@dataclass
class System:
    settings: Settings
    asterisk: AsteriskProcess
    controller: Controller
    services: Services
    ami: AmiClient  # the test's own AMI connection, separate from the controller's
    events: EventLog

    @property
    def booking(self) -> BookingService:
        return self.services.booking

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def controller_tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.controller.timezone)

    def caller(
        self, access: str = "8000", caller_id: str | None = None, voice: str = "", record: str = ""
    ) -> LocalCaller:
        """A new Local-channel caller; each gets its own number unless one is given, so PIN
        guessing limits (per caller number, across calls) never leak between tests."""
        number = caller_id or f"+42022{next(_numbers):07d}"
        return LocalCaller(self.ami, self.events, access, number, voice, record)


@asynccontextmanager
async def running_system(
    settings: Settings,
    asterisk: AsteriskProcess,
    clock: Clock | None = None,
    web_token: TokenSource | None = None,
) -> AsyncIterator[System]:
    """``web_token``: where the ``web`` route reads a browser's token (default: the SIP header)."""
    upgrade(settings.database_url)
    services = build_services(settings, clock or SystemClock())
    secret = asterisk.instance.ami_secret()
    inst = asterisk.instance
    controller = build_controller(
        services,
        secret,
        inst.inner("names"),
        inst.install.host_path,
        inst.inner(names.RECORDINGS_DIR),
        **({"web_token": web_token} if web_token is not None else {}),
    )
    await controller.start()
    a = settings.asterisk
    ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, secret)
    events = EventLog()
    ami.on_event(events.add)
    await ami.connect(wait_s=10)
    await controller.ami.wait_ready(10)
    try:
        yield System(settings, asterisk, controller, services, ami, events)
    finally:
        with contextlib.suppress(AmiError):
            await ami.action({"Action": "Hangup", "Channel": "/^Local\\//"})
        await ami.close()
        await controller.close()


def settings_env(s: Settings) -> dict[str, str]:
    """The environment that gives a `dialconf` subprocess exactly these settings."""
    a, c, m = s.asterisk, s.controller, s.messaging
    k = m.kannel
    return {
        **os.environ,
        "DIALCONF_DATA_DIR": str(s.data_dir),
        "DIALCONF_DATABASE_URL": s.database_url,
        "DIALCONF_ASTERISK__INSTANCE": a.instance,
        "DIALCONF_ASTERISK__AMI_PORT": str(a.ami_port),
        "DIALCONF_ASTERISK__HTTP_PORT": str(a.http_port),
        "DIALCONF_ASTERISK__SIP_PORT": str(a.sip_port),
        "DIALCONF_ASTERISK__RTP_START": str(a.rtp_start),
        "DIALCONF_ASTERISK__RTP_END": str(a.rtp_end),
        "DIALCONF_CONTROLLER__AGI_PORT": str(c.agi_port),
        "DIALCONF_CONTROLLER__METRICS_PORT": str(c.metrics_port),
        "DIALCONF_API__PORT": str(s.api.port),
        "DIALCONF_ACCESS_NUMBERS": '{"8000": "en"}',
        "DIALCONF_MESSAGING__MAIL__INTAKE_PORT": str(m.mail.intake_port),
        "DIALCONF_MESSAGING__MAIL__RELAY_PORT": str(m.mail.relay_port),
        "DIALCONF_MESSAGING__KANNEL__ADMIN_PORT": str(k.admin_port),
        "DIALCONF_MESSAGING__KANNEL__SMSBOX_PORT": str(k.smsbox_port),
        "DIALCONF_MESSAGING__KANNEL__FAKE_SMSC_PORT": str(k.fake_smsc_port),
        "DIALCONF_MESSAGING__KANNEL__SENDSMS_PORT": str(k.sendsms_port),
        # every controller, booking and clock setting the test changed (compressed lifecycle
        # minutes, capacity, PIN limits, the shared clock): the subprocess must run the same rules
        **_changed("CONTROLLER", c),
        **_changed("BOOKING", s.booking),
        **_changed("CLOCK", s.clock),
    }


def _changed(section: str, model: BaseModel) -> dict[str, str]:
    """``DIALCONF_<SECTION>__<FIELD>`` for each field that differs from its default (flat
    sections: a value that is not a string goes as JSON, which pydantic-settings reads)."""
    return {
        f"DIALCONF_{section}__{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in model.model_dump(mode="json", exclude_defaults=True).items()
    }
