"""``dialconf``: one command, a subcommand per job. Each subcommand is a composition root."""

from __future__ import annotations

import argparse
import sys

import structlog
from pydantic import ValidationError

from conference_ivr.dialconf import cli_billing, cli_booking, cli_senders
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
    sub.add_parser(
        "api", help="run the booking API, its pages and the messaging (SMS, e-mail) without a controller"
    )

    ast = sub.add_parser("asterisk", help="provision, start and stop the Asterisk instance")
    ast_sub = ast.add_subparsers(dest="asterisk_command", required=True)
    ast_sub.add_parser("provision", help="find Asterisk >= 20 or build the cached Debian root (needs root)")
    ast_sub.add_parser("render", help="write the instance's config (for an Asterisk started by systemd)")
    ast_sub.add_parser("up", help="render the config and start Asterisk in the background")
    ast_sub.add_parser("down", help="stop Asterisk")
    ast_sub.add_parser("status", help="say whether Asterisk runs and where its files are")

    cluster = sub.add_parser("cluster", help="several media nodes behind Kamailio on one machine (issue 21)")
    cluster_sub = cluster.add_subparsers(dest="cluster_command", required=True)
    cluster_up = cluster_sub.add_parser(
        "up", help="start PostgreSQL, N Asterisk nodes with their controllers, and Kamailio in front"
    )
    cluster_up.add_argument("--nodes", type=int, default=2, help="media nodes (1-9; default 2)")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply Alembic migrations to the configured database")

    cli_booking.add_parsers(sub)
    cli_senders.add_parsers(sub)
    cli_billing.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # a setting that cannot work: say which and why, no traceback
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"dialconf: {where}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except DialconfError as exc:
        print(f"dialconf: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in cli_booking.COMMANDS:
        return cli_booking.run(args, settings)
    if args.command in cli_senders.COMMANDS:
        return cli_senders.run(args, settings)
    if args.command in cli_billing.COMMANDS:
        return cli_billing.run(args, settings)
    from conference_ivr.dialconf import runner  # imports uvicorn and the controller: only when needed

    if args.command == "run":
        return runner.run_all(settings)
    if args.command == "serve":
        return runner.serve(settings)
    if args.command == "api":
        from conference_ivr.dialconf.api_alone import serve_api

        return serve_api(settings)
    if args.command == "asterisk":
        return runner.asterisk_command(settings, args.asterisk_command)
    if args.command == "cluster":
        from conference_ivr.dialconf import cluster_up

        return cluster_up.up(settings, args.nodes)
    if args.command == "db":
        from booking.store.migrate import upgrade

        upgrade(settings.database_url)
        print(f"database at head: {settings.database_url}")
        return 0
    raise AssertionError(args.command)
