"""Operator billing commands: tariffs, rating a month, statements, plans (R51, R52, R62).

`dialconf tariff show > t.toml`, edit, `dialconf tariff load t.toml --note "O2 from May"`;
`dialconf rate 2027-03`; `dialconf statement acme 2027-03 [--csv]`; `dialconf plan acme
professional`; `dialconf month-end [2027-03] [--again]` (statements e-mailed, R51).
Months are YYYY-MM, calendar months of the service's time zone. Exit codes as in cli_booking:
1 refused or not found, 2 unusable input; one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from booking.domain.errors import NotFound
from booking.domain.statement import Statement
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.month_end import MonthEndService
from conference_ivr.dialconf.cli_answer import answered
from conference_ivr.errors import UsageError
from conference_ivr.settings import Settings

COMMANDS = ("tariff", "rate", "statement", "plan", "month-end")
# Refusals that mean the input itself cannot be used (exit 2); any other rule refuses (exit 1).
UNUSABLE = frozenset({"bad_tariff", "bad_month", "unknown_plan"})
# `tariff show` heads the TOML with this comment; `tariff load` drops it, so the two round-trip.
_SHOWN = re.compile(r"\A# tariff version \d+ in force \(dialconf tariff show\)\r?\n")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tariff = sub.add_parser("tariff", help="the tariff in force: show it, load a new version (R62)")
    t_sub = tariff.add_subparsers(dest="tariff_command", required=True)
    t_sub.add_parser("show", help="print the tariff in force (TOML, as booking/billing/tariffs.toml)")
    load = t_sub.add_parser("load", help="load a tariff file as a new version (validated first)")
    load.add_argument("file", help="a TOML tariff file, or - for standard input")
    load.add_argument("--note", default="", help="why (kept with the version)")
    load.add_argument(
        "--fix",
        action="store_true",
        help="a correction of prices already in force (then re-rate the months it touches); without "
        "it a price change must start at least 31 days ahead",
    )

    rate = sub.add_parser("rate", help="rate a month's calls with the tariff in force (idempotent)")
    rate.add_argument("month", help="YYYY-MM, a calendar month of the service's time zone")

    stmt = sub.add_parser("statement", help="a profile's monthly statement (R51)")
    stmt.add_argument("profile", help="profile name")
    stmt.add_argument("month", help="YYYY-MM")
    stmt.add_argument("--csv", action="store_true", help="CSV (one row per leg, then the totals)")

    month_end = sub.add_parser(
        "month-end",
        help="run or resume a month's month-end: statements built and e-mailed with PDF and CSV (R51)",
    )
    month_end.add_argument("month", nargs="?", help="YYYY-MM (default: the last month that ended)")
    month_end.add_argument(
        "--again",
        action="store_true",
        help="rebuild and e-mail every statement again, though the run finished",
    )

    plan = sub.add_parser("plan", help="set a profile's plan (on_demand, professional, ...)")
    plan.add_argument("profile", help="profile name")
    plan.add_argument("plan", help="a plan of the tariff in force")


Handler = Callable[[argparse.Namespace, BookingService, BillingService], int]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from conference_ivr.dialconf.services import build_services

    handlers: dict[str, Handler] = {"tariff": _tariff, "rate": _rate, "statement": _statement, "plan": _plan}

    def command() -> int:
        services = build_services(settings)
        if args.command == "month-end":
            return _month_end(args, services.month_end)
        return handlers[args.command](args, services.booking, services.billing)

    return answered(command, UNUSABLE)


def _profile_id(booking: BookingService, name: str) -> int:
    found = booking.find_profile(name)
    if found is None:
        raise NotFound(f"no profile {name!r} (`dialconf profile create {name}` makes one)")
    return found


# --- tariff -----------------------------------------------------------------------------


def _tariff(args: argparse.Namespace, booking: BookingService, billing: BillingService) -> int:
    if args.tariff_command == "show":
        version, text = billing.tariff_text()
        print(f"# tariff version {version} in force (dialconf tariff show)")
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    text = _SHOWN.sub("", _read(args.file), count=1)
    version = billing.load_tariff(text, args.note, fix=args.fix)
    print(f"tariff version {version} loaded")
    if args.fix:
        print("re-rate the months it corrects: dialconf rate YYYY-MM")
    return 0


def _read(name: str) -> str:
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read the tariff file {name}: {getattr(exc, 'strerror', None) or exc}"
        ) from None


# --- rate, plan -------------------------------------------------------------------------


def _rate(args: argparse.Namespace, booking: BookingService, billing: BillingService) -> int:
    run = billing.rate_month(args.month)
    print(
        f"{run.month}: {run.legs} legs rated with tariff version {run.tariff_version}; "
        f"{run.changed} changed, {run.dropped} dropped"
    )
    return 0


def _plan(args: argparse.Namespace, booking: BookingService, billing: BillingService) -> int:
    profile_id = _profile_id(booking, args.profile)
    billing.set_plan(profile_id, args.plan)
    print(f"profile {args.profile!r} is on plan {billing.plan_name(profile_id)}")
    return 0


def _month_end(args: argparse.Namespace, month_end: MonthEndService) -> int:
    """The e-mails go into the outbox: the running service's dispatcher sends them."""
    run = month_end.run(args.month or month_end.due(), again=args.again)
    print(
        f"{run.month}: month-end revision {run.revision}, {run.statements} statements, "
        f"{run.mailed} e-mailed (queued in the outbox; `dialconf run` sends them)"
    )
    return 0


# --- statement --------------------------------------------------------------------------


def _statement(args: argparse.Namespace, booking: BookingService, billing: BillingService) -> int:
    profile_id = _profile_id(booking, args.profile)
    if args.csv:
        print(billing.statement_csv(profile_id, args.month), end="")
        return 0
    print(statement_table(billing.statement(profile_id, args.month), args.profile, billing))
    return 0


_WIDTH = 78
_HEADER = (
    f"{'STARTED':<16}  {'CONFERENCE':<10}  {'LEGS':>4}  {'SECONDS':>8}  {'BILLED':>8}  {'NET':>10}  SESSION"
)


def statement_table(s: Statement, name: str, billing: BillingService) -> str:
    """A statement for a person to read: one row per session, then the totals (CZK)."""
    lines = [
        f"statement of {name!r} for {s.month}, plan {s.plan or '-'} (CZK, times in {billing.tz.key})",
        _HEADER,
    ]
    for line in s.lines:
        started = line.started_at.astimezone(billing.tz)
        lines.append(
            f"{started:%Y-%m-%d %H:%M}  {line.conference_number:<10}  {line.participants:>4}  "
            f"{line.seconds:>8}  {line.billed_s:>8}  {_money(line.net):>10}  {line.session_id or ''}".rstrip()
        )
    if not s.lines:
        lines.append("(no sessions this month)")
    lines.append("-" * _WIDTH)
    for label, amount in (
        ("usage", s.usage_net),
        ("monthly minimum top-up", s.minimum_top_up),
        (f"SMS notices ({len(s.sms)})", s.sms_net),
        ("net", s.net),
        (f"VAT {(s.vat_rate * 100).normalize():f} %", s.vat),
        ("gross", s.gross),
        ("callers' own connection charges (R52, for information)", s.callers_gross),
    ):
        lines.append(f"{label:<{_WIDTH - 12}}{_money(amount):>12}")
    return "\n".join(lines)


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"
