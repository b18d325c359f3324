"""Operator booking commands: book, list, cancel, queue, approve, reject, profile create and
account-plan.

They call the same ``BookingService`` methods as the REST API. A refusal or a missing
reservation prints one line on stderr and exits 1; unusable input or an unready database
exits 2. No tracebacks.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from booking.domain.account_plans import AccountPlan
from booking.domain.errors import NotFound
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from conference_ivr.dialconf.cli_answer import answered
from conference_ivr.errors import UsageError
from conference_ivr.settings import Settings

if TYPE_CHECKING:
    from conference_ivr.dialconf.services import Services

COMMANDS = ("book", "list", "cancel", "queue", "approve", "reject", "profile", "pin-lockouts")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    book = sub.add_parser("book", help="book a conference and print its access data")
    when = book.add_mutually_exclusive_group()
    when.add_argument("--start", help="start time, ISO 8601 (e.g. 2026-12-01T14:00+01:00); default: now")
    when.add_argument("--anytime", action="store_true", help="an anytime room: no date, until deleted")
    book.add_argument("--minutes", type=int, default=60, help="length in minutes (default 60)")
    book.add_argument("--seats", type=int, default=10, help="participants allowed (default 10)")
    book.add_argument("--profile", default=None, help="profile the room belongs to (created on first use)")
    book.add_argument(
        "--kind",
        choices=[ReservationKind.PANEL.value, ReservationKind.ON_DEMAND.value],
        default=ReservationKind.PANEL.value,
        help="panel reservation (default) or on-demand order (<= 120 min, <= 20 seats)",
    )

    ls = sub.add_parser("list", help="list a profile's reservations with their codes")
    ls.add_argument("--profile", default=None, help="profile name (default: the operator's profile)")
    ls.add_argument("--all", action="store_true", help="also reservations that ended more than an hour ago")

    cancel = sub.add_parser("cancel", help="delete a reservation: frees its slot, seats and number")
    cancel.add_argument("id", type=int, help="reservation id")
    cancel.add_argument("--profile", default=None, help="the profile it belongs to (default: operator's)")

    sub.add_parser("queue", help="list requests over the limits that wait for an operator")

    approve = sub.add_parser("approve", help="approve a queued request (capacity still applies)")
    approve.add_argument("id", type=int, help="reservation id from `dialconf queue`")

    reject = sub.add_parser("reject", help="reject a queued request and free its room")
    reject.add_argument("id", type=int, help="reservation id from `dialconf queue`")
    reject.add_argument("--reason", required=True, help="why (kept in the reservation's note)")

    profile = sub.add_parser("profile", help="API profiles")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True)
    create = profile_sub.add_parser("create", help="create a profile and print its API token (once)")
    create.add_argument("name", help="unique profile name")
    create.add_argument("--language", default="en", help="menu language, ISO 639-1 (default en)")
    plan = profile_sub.add_parser(
        "account-plan",
        help="show or set a profile's account plan: panel (3 active rooms) or provider (any number)",
    )
    plan.add_argument("name", help="profile name")
    plan.add_argument("plan", nargs="?", choices=[p.value for p in AccountPlan], help="the plan to put it on")

    locks = sub.add_parser(
        "pin-lockouts", help="PIN guessing: caller numbers and web clients locked out, conferences throttled"
    )
    locks_sub = locks.add_subparsers(dest="lockout_command", required=True)
    locks_sub.add_parser("list", help="keys held now")
    clear = locks_sub.add_parser("clear", help="forget a key's wrong PINs, e.g. caller:+420601000001")
    clear.add_argument(
        "key", help="caller:<number>, conference:<number>, web:<address> or web-conference:<number>"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from conference_ivr.dialconf.services import build_services

    handlers: dict[str, Callable[[argparse.Namespace, Services], int]] = {
        "book": _book,
        "list": _list,
        "cancel": _cancel,
        "queue": _queue,
        "approve": _approve,
        "reject": _reject,
        "profile": _profile,
        "pin-lockouts": _pin_lockouts,
    }
    return answered(lambda: handlers[args.command](args, build_services(settings)))


def _profile_name(args: argparse.Namespace, settings: Settings) -> str:
    name: str | None = args.profile
    return name or settings.booking.default_profile


def _book(args: argparse.Namespace, services: Services) -> int:
    service, settings = services.booking, services.settings
    start: datetime | None = None
    minutes: int | None = None
    if not args.anytime:
        start = _parse_start(args.start) if args.start else datetime.now(UTC)
        minutes = args.minutes
    kind = ReservationKind(args.kind)
    r = service.book(start, minutes, args.seats, profile=args.profile, kind=kind)
    print(describe(r, settings))
    return 0


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start {text!r} is not an ISO 8601 time, e.g. 2026-12-01T14:00+01:00") from None
    return start if start.tzinfo is not None else start.astimezone()  # local time of this machine


def _list(args: argparse.Namespace, services: Services) -> int:
    service, settings = services.booking, services.settings
    name = _profile_name(args, settings)
    found = service.reservations_of(name)
    if not args.all:
        now = datetime.now(UTC)
        found = [r for r in found if r.visible(now, settings.booking.ended_visible)]
    if not found:
        print(f"no reservations for profile {name!r}")
        return 0
    print(_HEADER)
    for r in found:
        print(_row(r).rstrip())
    return 0


def _cancel(args: argparse.Namespace, services: Services) -> int:
    service = services.booking
    if args.profile:  # only within that profile
        mine = [r for r in service.reservations_of(args.profile) if r.id == args.id]
        if not mine:
            raise NotFound(f"no reservation {args.id} for profile {args.profile!r}")
    r = service.cancel(args.id)
    print(f"reservation {args.id} deleted; conference number {r.room.conference_number} released")
    return 0


def _queue(args: argparse.Namespace, services: Services) -> int:
    service = services.booking
    pending = service.queue()
    if not pending:
        print("the queue is empty")
        return 0
    print(f"{'ID':>5}  {'PROFILE':>7}  {'KIND':<9}  {'WHEN':<33}  {'SEATS':>5}  WHY")
    for r in pending:
        row = f"{r.id:>5}  {r.room.profile_id:>7}  {r.kind.value:<9}  {_when(r):<33}  {r.seats:>5}  {r.note}"
        print(row.rstrip())
    return 0


def _approve(args: argparse.Namespace, services: Services) -> int:
    service, settings = services.booking, services.settings
    r = service.approve(args.id)
    print(f"reservation {r.id} approved")
    print(describe(r, settings))
    return 0


def _reject(args: argparse.Namespace, services: Services) -> int:
    service = services.booking
    reason = args.reason.strip()
    if not reason:
        raise UsageError("--reason must say why")
    r = service.reject(args.id, reason)
    print(f"reservation {r.id} rejected: {r.note}")
    return 0


def _profile(args: argparse.Namespace, services: Services) -> int:
    service = services.booking
    if args.profile_command == "account-plan":
        return _account_plan(args, services)
    assert args.profile_command == "create"
    language = args.language.strip().lower()
    if len(language) != 2 or not language.isalpha():
        raise UsageError(f"--language {args.language!r}: give a two-letter code such as en, cs, de")
    profile, token = service.create_profile(args.name, language)
    print(f"profile {profile.name!r} created (id {profile.id}, language {profile.language})")
    print(f"API token (shown only now; keep it secret): {token}")
    return 0


def _account_plan(args: argparse.Namespace, services: Services) -> int:
    """Show a profile's account plan, or put it on another (R27: panel; R45: provider)."""
    service = services.booking
    profile_id = service.find_profile(args.name)
    if profile_id is None:
        raise NotFound(f"no profile {args.name!r}")
    if args.plan is None:
        profile = service.profile(profile_id)
        assert profile is not None
    else:
        profile = service.set_account_plan(profile_id, AccountPlan(args.plan))
    limit = service.room_limit(profile.id)
    rooms = "any number of rooms" if limit is None else f"at most {limit} active rooms"
    print(f"profile {profile.name!r}: account plan {profile.account_plan.value} ({rooms})")
    return 0


_HEADER = (
    f"{'ID':>5}  {'STATUS':<8}  {'KIND':<9}  {'WHEN':<33}  {'SEATS':>5}  "
    f"{'NUMBER':<8}  {'PIN':<8}  {'ADMIN PIN':<9}  TITLE"
)


def _row(r: Reservation) -> str:
    room = r.room
    return (
        f"{r.id:>5}  {r.status.value:<8}  {r.kind.value:<9}  {_when(r):<33}  {r.seats:>5}  "
        f"{room.conference_number:<8}  {room.pin:<8}  {room.admin_pin:<9}  {r.title}"
    )


def _when(r: Reservation) -> str:
    if r.starts_at is None or r.ends_at is None:
        return "anytime (until deleted)"
    start, end = r.starts_at.astimezone(), r.ends_at.astimezone()
    end_fmt = "%H:%M" if start.date() == end.date() else "%Y-%m-%d %H:%M"
    return f"{start:%Y-%m-%d %H:%M} - {end.strftime(end_fmt)}"


def describe(r: Reservation, settings: Settings) -> str:
    """The access data to pass on (R5, R22)."""
    lines = [
        f"reservation: {r.id} ({r.status.value})",
        f"access number(s): {', '.join(settings.access_numbers)}",
        f"conference number: {r.room.conference_number}",
        f"PIN: {r.room.pin}",
        f"ADMIN PIN: {r.room.admin_pin}",
        f"when: {_when(r)}",
        f"seats: {r.seats}",
    ]
    if r.status is ReservationStatus.PENDING:
        lines.append(f"pending: {r.note}; an operator approves it with `dialconf approve {r.id}`")
    return "\n".join(lines)


def _pin_lockouts(args: argparse.Namespace, services: Services) -> int:
    if args.lockout_command == "clear":
        if not services.dialin.clear_pin_lockout(args.key):
            raise NotFound(f"no wrong PINs recorded for {args.key}")
        print(f"cleared {args.key}")
        return 0
    locked = services.dialin.pin_lockouts()
    if not locked:
        print("no lockouts")
        return 0
    for a in locked:
        assert a.locked_until is not None
        held = "throttled" if a.key.startswith(("conference:", "web-conference:")) else "locked out"
        print(f"{a.key}  {a.failures} wrong PINs  {held} until {a.locked_until.astimezone():%Y-%m-%d %H:%M}")
    return 0
