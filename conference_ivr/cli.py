"""``dialconf``: one command, a subcommand per job. Each subcommand is a composition root."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import structlog

from conference_ivr.errors import DialconfError
from conference_ivr.logs import configure_logging
from conference_ivr.settings import Settings

log = structlog.get_logger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dialconf", description="Dial-in conference bridge on Asterisk ConfBridge."
    )
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "run", help="provision and start everything (Asterisk, controller, booking API) in the foreground"
    )
    sub.add_parser("serve", help="run the controller (FastAGI + AMI + /metrics) and the booking API")

    ast = sub.add_parser("asterisk", help="provision, start and stop the Asterisk instance")
    ast_sub = ast.add_subparsers(dest="asterisk_command", required=True)
    ast_sub.add_parser("provision", help="find Asterisk >= 20 or build the cached Debian root (needs root)")
    ast_sub.add_parser("up", help="render the config and start Asterisk in the background")
    ast_sub.add_parser("down", help="stop Asterisk")
    ast_sub.add_parser("status", help="say whether Asterisk runs and where its files are")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply Alembic migrations to the configured database")

    book = sub.add_parser("book", help="book a conference and print its access data")
    when = book.add_mutually_exclusive_group()
    when.add_argument("--start", help="start time, ISO 8601 (e.g. 2026-12-01T14:00+01:00); default: now")
    when.add_argument("--anytime", action="store_true", help="an anytime room: no date, until deleted")
    book.add_argument("--minutes", type=int, default=60, help="length in minutes (default 60)")
    book.add_argument("--seats", type=int, default=10, help="participants allowed (default 10)")
    book.add_argument("--profile", default=None, help="profile the room belongs to")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except DialconfError as exc:
        print(f"dialconf: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from conference_ivr import runner

    if args.command == "run":
        return runner.run_all(settings)
    if args.command == "serve":
        return runner.serve(settings)
    if args.command == "asterisk":
        return runner.asterisk_command(settings, args.asterisk_command)
    if args.command == "db":
        from booking.store.migrate import upgrade

        upgrade(settings.database_url)
        print(f"database at head: {settings.database_url}")
        return 0
    if args.command == "book":
        return _book(args, settings)
    raise AssertionError(args.command)


def _book(args: argparse.Namespace, settings: Settings) -> int:
    from booking.domain.errors import RuleViolation
    from conference_ivr.app import build_booking

    service = build_booking(settings)
    start: datetime | None = None
    minutes: int | None = None
    if not args.anytime:
        start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
        if start.tzinfo is None:
            start = start.astimezone()  # local time of this machine
        minutes = args.minutes
    try:
        r = service.book(start, minutes, args.seats, profile=args.profile)
    except RuleViolation as exc:
        print(f"refused: {exc.field}: {exc.reason}", file=sys.stderr)
        return 1
    print(describe(r, settings))
    return 0


def describe(r: object, settings: Settings) -> str:
    from booking.domain.model import Reservation

    assert isinstance(r, Reservation)
    when = "anytime (until deleted)"
    if r.starts_at and r.ends_at:
        when = f"{r.starts_at.astimezone():%Y-%m-%d %H:%M} - {r.ends_at.astimezone():%H:%M}"
    lines = [
        f"access number(s): {', '.join(settings.access_numbers)}",
        f"conference number: {r.room.conference_number}",
        f"PIN: {r.room.pin}",
        f"ADMIN PIN: {r.room.admin_pin}",
        f"when: {when}",
        f"seats: {r.seats}",
    ]
    return "\n".join(lines)
