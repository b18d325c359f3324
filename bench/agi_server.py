"""The controller's FastAGI server for the AGI benchmark, in a process of its own.

``--route ivr`` (the default) is the real thing: ``build_controller`` from conference_ivr/dialconf/compose.py
over the booking store at ``--database-url``, so the journey is DialInJourney with its
ThreadedDirectory, the live seat gate (``LiveConferences.take_seat``), the roster, metrics and
structured logs at info (to ``--log-file``, one write per line as on stderr). Only the FastAGI
server is started: AMI is not connected (the seat gate then also reads ConfBridge's party count,
as it does while AMI is down), names are not recorded (names_dir=None), no HTTP endpoint. As
nothing tells it that a caller left, each call's end plays Asterisk's ``Hangup`` event to it
(``hang_up_after``): the anytime room's live seat is freed as in production.

``--route floor`` is the measuring floor: the same FastAgiServer and AgiSession, with a route
that sends the journey's 18 commands and does nothing else (no database, logs or metrics).

On stdin: ``cpu`` prints ``CPU <json>``: this process's user+system CPU seconds (every thread),
the event loop thread's alone, the peak RSS, the journey's database steps as it times them
(count and seconds), and the cyclic garbage collector's passes per
generation with their seconds and the longest; end of input stops the server. It prints
``PORT <n>`` once listening on 127.0.0.1.
``--profile PATH`` writes cProfile statistics of the whole run there at the end.
Once built, the process is tuned as `dialconf run` tunes its controller (``tune_for_serving``:
gc.freeze(), the GIL switch interval); ``--untuned`` keeps CPython's defaults (before/after), and
``--switch-interval S`` overrides the interval, to see how much of the tail is the event loop
waiting for a GIL held by the lookup threads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import resource
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from booking.settings import BookingSettings
from conference_ivr.agi.server import FastAgiServer, Route
from conference_ivr.agi.session import AgiSession
from conference_ivr.controller import Controller
from conference_ivr.dialconf.compose_controller import build_controller
from conference_ivr.dialconf.runner import tune_for_serving
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.logs import configure_logging
from conference_ivr.pbx import names
from conference_ivr.settings import Settings

# What the journey sends for a participant who keys 1, the number and the PIN (see the test).
FLOOR_JOURNEY = (
    "ANSWER",
    'SET VARIABLE CHANNEL(language) "en"',
    'EXEC Read "DIALCONF_DIGITS,dialconf/press_one,1,,1,6"',
    "GET VARIABLE DIALCONF_DIGITS",
    'EXEC Read "DIALCONF_DIGITS,dialconf/conference_number,12,,1,6"',
    "GET VARIABLE DIALCONF_DIGITS",
    'EXEC Read "DIALCONF_DIGITS,dialconf/pin_pause&dialconf/pin,12,,1,6"',
    "GET VARIABLE DIALCONF_DIGITS",
    'GET FULL VARIABLE "${CONFBRIDGE_INFO(parties,conf-100000)},${CONFBRIDGE_INFO(locked,conf-100000)}"',
    'SET VARIABLE CONFBRIDGE(bridge,template) "dialconf_bridge"',
    'SET VARIABLE CONFBRIDGE(bridge,max_members) "33"',
    'SET VARIABLE CONFBRIDGE(user,template) "dialconf_participant"',
    'SET VARIABLE DIALCONF_BRIDGE "conf-100000"',
    'SET VARIABLE DIALCONF_CONFERENCE "100000"',
    'SET VARIABLE DIALCONF_ROLE "participant"',
    'SET VARIABLE DIALCONF_MENU "dialconf_menu_participant"',
    'SET VARIABLE DIALCONF_ACTION "join"',
)


async def floor_route(agi: AgiSession) -> None:
    for line in FLOOR_JOURNEY:
        await agi.command(line)


def hang_up_after(controller: Controller) -> None:
    """Each journey's end is followed by its channel's AMI ``Hangup``, through the AMI client's
    own dispatch, as Asterisk would send it when the caller leaves (here: right after joining).
    Without it an anytime room's live seat stays held for ``live_seat_hold_minutes`` and, once
    ``system_capacity`` callers joined, every later call hears system_full: the run would
    measure refusals. The release (a store write, as in production) runs in the controller."""
    agi, ami = controller.agi, controller.ami
    journey: Route = agi._routes[names.AGI_ROUTE_IVR]

    async def call(session: AgiSession) -> None:
        try:
            await journey(session)
        finally:
            h = session.headers
            ami._dispatch(
                None, {"Event": "Hangup", "Channel": h.channel, "Uniqueid": h.uniqueid, "Cause": "16"}
            )

    agi._routes[names.AGI_ROUTE_IVR] = call


class GcWatch:
    """Every pass of the cyclic garbage collector: how many per generation, how long."""

    def __init__(self) -> None:
        self.passes = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        took, g = time.perf_counter() - self._began, info["generation"]
        self.passes[g] += 1
        self.seconds[g] += took
        self.longest[g] = max(self.longest[g], took)

    def state(self) -> dict[str, list[float]]:
        return {
            "passes": list(self.passes),
            "seconds": [round(s, 6) for s in self.seconds],
            "longest": [round(s, 6) for s in self.longest],
        }


GC = GcWatch()
STEPS: dict[str, Callable[[], tuple[float, float]]] = {}  # the journey's own step timer: (count, sum s)


def journey_steps(registry: CollectorRegistry) -> None:
    """Read ``dialconf_controller_step_seconds`` (the database call, timed inside the journey:
    one decision after the conference number and the PIN)."""
    for step in ("pin",):

        def read(step: str = step) -> tuple[float, float]:
            labels = {"step": step}
            count = registry.get_sample_value("dialconf_controller_step_seconds_count", labels)
            total = registry.get_sample_value("dialconf_controller_step_seconds_sum", labels)
            return count or 0.0, total or 0.0

        STEPS[step] = read


def cpu_line() -> str:
    """Called on the event loop's thread: ``thread_time`` is that thread's CPU."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    usage = {
        "cpu_s": r.ru_utime + r.ru_stime,
        "loop_cpu_s": time.thread_time(),
        "rss_mib": round(r.ru_maxrss / 1024, 1),
        "gc": GC.state(),
        "steps": {step: read() for step, read in STEPS.items()},
    }
    return "CPU " + json.dumps(usage, separators=(",", ":"))


async def serve(agi: FastAgiServer) -> None:
    port = await agi.start("127.0.0.1", 0)
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    control = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(control), sys.stdin)

    async def commands() -> None:
        while line := await control.readline():
            if line.strip() == b"cpu":
                print(cpu_line(), flush=True)
        stop.set()

    reading = asyncio.create_task(commands())
    try:
        await stop.wait()
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await agi.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--route", choices=("ivr", "floor"), default="ivr")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--data-dir", type=Path, default=Path("var"))
    ap.add_argument("--log-file", type=Path, required=True)
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--switch-interval", type=float, help="override the tuning's GIL switch interval")
    ap.add_argument(
        "--untuned",
        action="store_true",
        help="CPython's defaults, not what `dialconf run` tunes (before/after)",
    )
    args = ap.parse_args(argv)

    with open(args.log_file, "a") as log_stream:
        configure_logging("info", stream=log_stream)
        services: Services | None = None
        # The system's capacity as large as the rooms' seats (200 x 30): at 500 calls in flight
        # the seats held between a caller's admission and its hang-up passed the default 200,
        # and the level measured system_full refusals instead of joins.
        settings = Settings(
            database_url=args.database_url,
            data_dir=args.data_dir,
            access_numbers={"8000": "en"},
            booking=BookingSettings(system_capacity=6000),
        )
        if args.route == "ivr":
            services = build_services(settings)
            controller = build_controller(services, ami_secret="not-connected", names_dir=None)
            journey_steps(controller.metrics.registry)
            hang_up_after(controller)
            agi = controller.agi
        else:
            agi = FastAgiServer()
            agi.add_route("ivr", floor_route)
        if not args.untuned:
            tune_for_serving(settings)  # as the controller process of `dialconf run` does
        if args.switch_interval is not None:
            sys.setswitchinterval(args.switch_interval)
        gc.callbacks.append(GC)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        try:
            asyncio.run(serve(agi))
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(args.profile))
            if services is not None:
                services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
