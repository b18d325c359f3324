"""The caller's journey benchmark (issue 23): how long a person takes from the answer to the
conference, through the real IVR, in each language.

- The system: ``python -m conference_ivr run`` (what `make run` starts) with one access number
  per language (8000 en, 8001 cs, 8002 de, 8003 fr, 8004 pl: the caller hears its language from
  the first prompt) and one anytime room per language.
- The callers: Local channels driven over AMI at human pace (bench/journey_caller.py): keys
  0.6 s apart, a 0.5 s pause before answering a prompt heard to its end, a 1.5 s name.
  - **first time**: listens to every prompt, says its name (the recording ends on silence);
  - **returning**: the same caller number again, so the IVR knows its name and skips it;
  - **typing ahead**: returning, and keys as soon as each prompt starts.
  First a warm-up: from the returning and typing-ahead callers' numbers, one call each that
  types ahead and says its name; these stay in the room. Then ``--callers`` of every kind per
  language at once (own caller numbers): no measured caller is the room's first member.
- The figure: answer (the IVR's ANSWER) to ConfbridgeJoin, split into prompt audio heard, the
  caller's keying, the name recording, and the system (the rest). Targets: first time <= 20 s,
  returning <= 12 s, typing ahead <= 8 s, in every language.

Results go to bench/results/<name>-<date>.md, .json and .png (a stacked bar per language and
kind). Loopback only; every call is hung up once it joined, or when it times out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from bench.journey_caller import HumanCaller, Journey, Pace, voice_dialplan
from bench.journey_report import TARGETS_S, headline, markdown, plot, summarise, verdict
from bench.machine import loadavg
from bench.publish import publish, run_facts
from bench.storm_system import (
    RunningSystem,
    book_rooms,
    running_system,
    sound_seconds,
    storm_env,
    storm_settings,
)
from conference_ivr.ami.client import AmiClient
from conference_ivr.errors import AmiError
from conference_ivr.ivr.sounds import install_sounds
from conference_ivr.pbx.names import SOUNDS_DIR
from conference_ivr.pbx.provision import locate

ROOT = Path(__file__).resolve().parent
LANGUAGES = ("en", "cs", "de", "fr", "pl")
ACCESS = {lang: str(8000 + i) for i, lang in enumerate(LANGUAGES)}
KINDS = ("first time", "returning", "typing ahead")


def prompt_seconds(system: RunningSystem, language: str) -> Callable[[str], float]:
    """A prompt file as the IVR names it (relative: the caller's language; absolute: another
    language's offer) -> how long it plays."""
    cache: dict[str, float] = {}

    def length(sound: str) -> float:
        if sound not in cache:
            path = PurePosixPath(sound)
            if path.is_absolute() and path.is_relative_to(SOUNDS_DIR):
                rel = path.relative_to(SOUNDS_DIR)
                cache[sound] = sound_seconds(
                    system.instance, str(PurePosixPath(*rel.parts[1:])), rel.parts[0]
                )
            else:
                cache[sound] = sound_seconds(system.instance, sound, language)
        return cache[sound]

    return length


def caller_number(language: str, kind: str, n: int) -> str:
    """Returning and typing-ahead callers call from the numbers the warm-up used (their names are
    known); first-time callers from numbers never heard."""
    number = {"first time": 1, "returning": 2, "typing ahead": 3}[kind]
    return f"+4206{LANGUAGES.index(language)}{number}{n:03d}11"


def keypad(system: RunningSystem) -> AmiClient:
    """A caller's own AMI connection for its keys (no events: the bench's one connection has them)."""
    a = system.settings.asterisk
    return AmiClient(a.ami_host, a.ami_port, a.ami_user, system.instance.ami_secret(), events="off")


def callers(
    ami: AmiClient, system: RunningSystem, rooms: dict[str, Any], args: argparse.Namespace, warm_up: bool
) -> list[HumanCaller]:
    """Every language's callers of every kind (``warm_up``: the calls before, from the returning
    and typing-ahead numbers, typing ahead and saying their names)."""
    out = []
    for lang in LANGUAGES:
        room = rooms[lang]
        # The number's prompt asks for the number and the PIN in one go: keyed on, both.
        keys = {"press_one": "1", "conference_number": f"{room.number}#{room.pin}#"}
        for kind in KINDS[1:] if warm_up else KINDS:
            pace = Pace(args.key_s, args.pause_s, args.name_s, type_ahead=warm_up or kind == "typing ahead")
            for n in range(args.callers):
                number = caller_number(lang, kind, n)
                sound_s = prompt_seconds(system, lang)
                out.append(
                    HumanCaller(ami, keypad(system), ACCESS[lang], number, keys, kind, lang, pace, sound_s)
                )
    for c in out:
        ami.on_event(c.on_event)
    return out


async def journeys(
    ami: AmiClient, system: RunningSystem, rooms: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Journey], list[Journey]]:
    """The warm-up, then every kind at once: (warm-up journeys, measured journeys).

    The warm-up callers stay in their rooms while the measured callers join, so no measured
    caller is the first member (ConfBridge tells the first one "you are the only person"
    before it joins: a prompt of an empty room, not of the journey)."""
    warm = callers(ami, system, rooms, args, warm_up=True)
    measured = callers(ami, system, rooms, args, warm_up=False)
    await asyncio.gather(*(c.keypad.connect(wait_s=10) for c in [*warm, *measured]))
    try:
        warmed = await asyncio.gather(*(c.run(args.call_timeout) for c in warm))
        await asyncio.sleep(args.between)  # the names are stored as the warm-up calls join
        return list(warmed), list(await asyncio.gather(*(c.run(args.call_timeout) for c in measured)))
    finally:
        for c in [*warm, *measured]:
            with contextlib.suppress(AmiError):
                await c.hang_up()
            with contextlib.suppress(AmiError):
                await c.keypad.close()


async def run(args: argparse.Namespace, tmp: Path, log: Callable[[str], None]) -> dict[str, Any]:
    settings = storm_settings(tmp, rtp_ports=2000, capacity=500)
    booked = book_rooms(settings, len(LANGUAGES))
    rooms = dict(zip(LANGUAGES, booked, strict=True))
    env = storm_env(settings)
    env["DIALCONF_ACCESS_NUMBERS"] = "{" + ", ".join(f'"{a}": "{lang}"' for lang, a in ACCESS.items()) + "}"
    env["DIALCONF_ASTERISK__TRACE_LOG"] = "false"
    # The prompts as this revision's catalogues say them (`run` plays what is installed).
    log(f"prompts regenerated: {install_sounds(locate(settings.asterisk)) or 'none'}")
    started = time.monotonic()
    async with running_system(settings, env, tmp / "run.log") as system:
        log(f"system up in {time.monotonic() - started:.1f} s")
        with system.instance.host("etc", "extensions.conf").open("a") as f:
            f.write(voice_dialplan(args.name_s))
        await asyncio.to_thread(system.rx, "dialplan reload")
        a = settings.asterisk
        ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, system.instance.ami_secret(), events="call,agi")
        await ami.connect(wait_s=10)
        try:
            warmed, done = await journeys(ami, system, rooms, args)
            joined = sum(j.split() is not None for j in done)
            warm = sum(j.split() is not None for j in warmed)
            log(f"  warm-up {warm}/{len(warmed)} joined; measured {joined}/{len(done)}")
            version = system.version()
        finally:
            with contextlib.suppress(AmiError):
                await ami.close()
    keys = 1 + len(booked[0].number) + 1 + len(booked[0].pin) + 1
    return {"asterisk": version, "keys": keys, "rows": summarise(done, LANGUAGES, KINDS), "journeys": [
        {"kind": j.kind, "language": j.language, "split": j.split(), "failed": j.failed,
         "steps": [[" ".join(s.command.split(" ")[:3])[:40], round(s.started - (j.answered or s.started), 2),
                    round((s.ended or s.started) - s.started, 2), round(s.prompt_s, 2), round(s.caller_s, 2)]
                   for s in j.steps]}
        for j in done
    ]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--callers", type=int, default=1, help="callers of each kind per language, at once")
    ap.add_argument("--key-s", type=float, default=0.6, help="seconds between keys")
    ap.add_argument("--pause-s", type=float, default=0.5, help="pause before answering a prompt heard out")
    ap.add_argument("--name-s", type=float, default=1.5, help="the spoken name's length")
    ap.add_argument("--call-timeout", type=float, default=75.0, help="a journey is given up after this")
    ap.add_argument(
        "--between", type=float, default=2.0, help="seconds between the warm-up and the measured calls"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--name", default="journey", help="results file name prefix")
    args = ap.parse_args(argv)
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    with tempfile.TemporaryDirectory(prefix="dialconf-journey-bench-") as tmpdir:
        measured = asyncio.run(run(args, Path(tmpdir), log))
    lines, ok = verdict(measured["rows"], measured["keys"], args.key_s)
    report = {
        **run_facts("bench.journey_bench", argv, args, began, load_before),
        "targets_s": TARGETS_S,
        **measured,
        "verdict": lines,
    }
    md = publish(args.out, args.name, report, markdown, log, headline)
    png = plot(
        measured["rows"], md.with_suffix(".png"), f"journey benchmark {report['date']}: {report['revision']}"
    )
    if png is not None:
        log(f"written: {png}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
