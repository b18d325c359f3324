"""The booking benchmark (``make bench``), on SQLite and on a throwaway PostgreSQL.

1. Latency (bench/booking_latency.py): one ``BookingService.request`` (rules, per-profile count,
   capacity check, room and reservation insert, in one transaction holding the capacity lock),
   timed one at a time against 100 000 existing bookings spread over 30 days (bulk-loaded with
   executemany in one transaction, not via the service): p50 / p99 / max in ms, for the service
   and, side by side on the same requests, for variants of its capacity check (the exact sweep
   alone; the check before). Also the capacity reads alone: the summed bound and the exact peak
   (what a booking reads), the window as Booked rows (the read before) and the +-24 h a refusal
   reads for its suggestions, with the rows each returns.
2. Race (bench/booking_race.py): 16 writers, each with its own engine and connection, book random
   windows of one day against a small capacity, up to 10 000 attempts each or a time limit,
   whichever comes first (the exact number run is reported). Then the confirmed seats are swept
   over every instant: overbooked instants must be 0 (the exit status says so).

Results go to bench/results/booking-<date>.md and .json, with the machine and the versions
(bench/booking_report.py). PostgreSQL is started and stopped by tests/support/postgres.py (fsync
off, loopback only). Run from the repository root: ``python -m bench.booking_bench --help``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from bench.booking_common import database
from bench.booking_latency import Latency, latency
from bench.booking_race import Race, race
from bench.booking_report import markdown, verdict, versions
from bench.machine import loadavg
from bench.publish import publish, run_facts
from tests.support.postgres import running_postgres

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--existing", type=int, default=100_000, help="bookings loaded before measuring")
    ap.add_argument("--samples", type=int, default=1000, help="requests measured, per service variant")
    ap.add_argument("--capacity", type=int, default=5000, help="seats, latency part")
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--attempts", type=int, default=10_000, help="per writer, at most")
    ap.add_argument("--race-seconds", type=float, default=10.0, help="per backend, at most")
    ap.add_argument("--race-capacity", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    args = ap.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    load_before = loadavg()
    began = time.monotonic()

    def log(msg: str) -> None:
        print(msg, flush=True)

    lat: list[Latency] = []
    races: list[Race] = []
    with tempfile.TemporaryDirectory(prefix="dialconf-bench-") as tmpdir:
        tmp = Path(tmpdir)
        with ExitStack() as stack:
            pg = stack.enter_context(running_postgres()) if "postgresql" in backends else None
            for backend in backends:
                log(f"{backend}: latency, {args.existing} existing bookings")
                with database(backend, "bench_latency", pg, tmp) as url:
                    lat.append(latency(backend, url, args.existing, args.samples, args.capacity, log))
                for variant, r in lat[-1].request.items():
                    log(f"  {variant}: p50 {r['p50']} ms, p99 {r['p99']} ms, max {r['max']} ms")
                log(f"{backend}: race, {args.writers} writers")
                with database(backend, "bench_race", pg, tmp) as url:
                    races.append(
                        race(backend, url, args.writers, args.attempts, args.race_seconds, args.race_capacity)
                    )
                x = races[-1]
                log(
                    f"  {x.attempts} attempts in {x.seconds} s ({x.booked} booked, {x.refused} refused, "
                    f"{len(x.errors)} errors); peak {x.peak_seats}/{x.capacity}, "
                    f"overbooked instants {x.overbooked_instants}"
                )
            report_versions = versions(pg)

    lines, ok = verdict(lat, races)
    report = {
        **run_facts("bench.booking_bench", argv, args, began, load_before),
        "versions": report_versions,
        "latency": [asdict(x) for x in lat],
        "race": [asdict(x) for x in races],
        "verdict": lines,
    }
    publish(args.out, "booking", report, markdown, log)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
