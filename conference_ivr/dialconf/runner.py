"""What `dialconf run`, `serve` and `asterisk ...` do: start things, print how to call in, stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys

import structlog
import uvicorn

from booking.services.booking import BookingService
from booking.store.migrate import upgrade
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import Messaging, build_api, build_messaging_runtime, controller_routers
from conference_ivr.dialconf.compose_controller import build_controller
from conference_ivr.dialconf.services import operator_token_file
from conference_ivr.ivr.sounds import install_sounds
from conference_ivr.pbx import names
from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import locate, provision
from conference_ivr.settings import Settings

log = structlog.get_logger(__name__)


def tune_for_serving(settings: Settings) -> None:
    """Process-wide settings of a controller process, once everything is built.

    Everything built so far lives as long as the process: frozen, it stays out of the cyclic
    collector's full passes, which otherwise stall every call for ~80 ms. A shorter GIL switch
    interval bounds how long a lookup thread keeps the event loop waiting (bench/results/agi-*).
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(settings.controller.gil_switch_ms / 1000)


DEMO_PROFILE = "demo"


def _instance(settings: Settings, install: bool = False) -> AsteriskInstance:
    """The Asterisk instance; ``install`` also builds what is missing (root, prompts)."""
    if not install:
        return AsteriskInstance(locate(settings.asterisk), settings)
    found = provision(settings.asterisk)
    install_sounds(found)
    return AsteriskInstance(found, settings)


def asterisk_command(settings: Settings, command: str) -> int:
    if command == "provision":
        inst = _instance(settings, install=True)
        print(f"asterisk {inst.install.version} at {inst.install.root or '/'}")
        return 0
    if command == "render":
        inst = _instance(settings)
        inst.render()
        print(f"rendered: asterisk -f -C {inst.config_file}")
        return 0
    proc = AsteriskProcess(_instance(settings))
    if command == "up":
        proc.start(detach=True)
        print(f"asterisk up: AMI {settings.asterisk.ami_bind_address}:{settings.asterisk.ami_port}")
    elif command == "down":
        proc.stop()
        print("asterisk down")
    elif command == "status":
        running = proc.is_running()
        print(f"asterisk {'running' if running else 'stopped'}; files in {proc.instance.host()}")
        return 0 if running else 3
    return 0


def serve(settings: Settings) -> int:
    inst = _instance(settings)
    print(f"booking API operator token: {token_source(settings)}", flush=True)
    asyncio.run(_serve(settings, build_messaging_runtime(settings), inst))
    return 0


async def _serve(settings: Settings, messaging: Messaging, inst: AsteriskInstance, banner: str = "") -> None:
    services, runtime = messaging.services, messaging.runtime
    controller = build_controller(
        services,
        inst.ami_secret(),
        inst.inner("names"),
        inst.install.host_path,
        inst.inner(names.RECORDINGS_DIR),
    )
    # Before anything starts: a bad token file stops here.
    app = build_api(services, messaging.sms_key, controller_routers(services, controller))
    await controller.start()
    tune_for_serving(settings)
    try:
        if settings.cluster.messaging:  # one node of a cluster sends the messages (issue 21)
            await runtime.start()
    except BaseException:
        await controller.close()
        raise
    api = uvicorn.Server(api_config(app, settings.api))
    # uvicorn captures SIGINT/SIGTERM while serving and re-raises them when done,
    # which then reaches the loop handlers below: one Ctrl-C stops everything in order.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    api_task = asyncio.create_task(api.serve())
    if banner:
        print(banner, flush=True)
    try:
        await stop.wait()
    finally:
        api.should_exit = True
        with contextlib.suppress(Exception):
            await api_task
        if settings.cluster.messaging:
            await runtime.close()
        await controller.close()


def demo_room(booking: BookingService, settings: Settings) -> str:
    from conference_ivr.dialconf.cli_booking import describe

    existing = booking.reservations_of(DEMO_PROFILE)
    reservation = existing[0] if existing else booking.book(None, None, 10, profile=DEMO_PROFILE)
    return describe(reservation, settings)


def token_source(settings: Settings) -> str:
    """Where the operator token is: the token itself is never printed nor logged."""
    if settings.api.operator_token:
        return "DIALCONF_API__OPERATOR_TOKEN (from settings)"
    return f"in {operator_token_file(settings).resolve()} (mode 0600)"


def _page_lines(settings: Settings) -> list[str]:
    """Every page the API's port serves."""
    base = f"http://{settings.api.bind_address}:{settings.api.port}"
    return [
        f"  booking API: {base}/docs (OpenAPI {base}/openapi.json)",
        f"  organizer panel: {base}/panel (sign in with a profile token)",
        f"  moderator live page: {base}/panel/reservations/<id>/live (or sign in at {base}/panel/login",
        "    with the conference number and ADMIN PIN)",
        f"  operations dashboard: {base}/dashboard (sign in with the operator token)",
        f"  join from a browser: {base}/join (conference number and PIN keyed on the page; WebRTC",
        f"    to Asterisk at {settings.webrtc.page_url(settings.asterisk)})",
    ]


def _ordering_lines(settings: Settings) -> list[str]:
    m = settings.messaging
    lines = []
    if m.sms:
        k = m.kannel
        lines.append(
            f"  or by SMS 'konf ddmm hhmm minutes participants' through Kannel (fake SMSC at "
            f"{k.host}:{k.fake_smsc_port}; sendsms {k.host}:{k.sendsms_port})"
        )
    if m.mail.intake:
        lines.append(
            f"  or by e-mail to {m.mail.booking_address} (SMTP {m.mail.bind_address}:{m.mail.intake_port}, "
            f"subject '{m.mail.subject}'); replies go out through {m.mail.relay_host}:{m.mail.relay_port}"
        )
    return lines


def run_all(settings: Settings) -> int:
    inst = _instance(settings, install=True)
    upgrade(settings.database_url)
    messaging = build_messaging_runtime(settings)
    proc = AsteriskProcess(inst)
    if proc.is_running():
        proc.stop()
    proc.start()
    a = settings.asterisk
    number = next(iter(settings.access_numbers))
    banner = "\n".join(
        [
            "",
            "dialconf is running. Ctrl-C stops everything.",
            f"  Asterisk {inst.install.version}  (AMI {a.ami_bind_address}:{a.ami_port}, "
            f"HTTP {a.http_bind_address}:{a.http_port}, SIP {a.sip_bind_address}:{a.sip_port})",
            f"  controller: FastAGI {settings.controller.bind_address}:{settings.controller.agi_port}, "
            f"metrics http://{settings.controller.bind_address}:{settings.controller.metrics_port}/metrics",
            *_page_lines(settings),
            f"  operator token: {token_source(settings)}",
            "",
            "Call in with a softphone (no registration needed):",
            f"  sip:{number}@{a.sip_host}:{a.sip_port}   (UDP, codecs ulaw/alaw/gsm, DTMF RFC 2833)",
            "then press 1, key the conference number and #, then the PIN (or ADMIN PIN) and #.",
            "Demo room:",
            "  " + demo_room(messaging.services.booking, settings).replace("\n", "\n  "),
            "Book another: dialconf book --minutes 60 --seats 10",
            *_ordering_lines(settings),
            "",
        ]
    )
    try:
        asyncio.run(_serve(settings, messaging, inst, banner))
    finally:
        proc.stop()
    return 0
