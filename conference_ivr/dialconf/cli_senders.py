"""Operator commands for SMS and e-mail senders (R12): list, block, unblock, limit.

`dialconf sender block sms +420601000111 --note spam --cancel-bookings`: the sender gets one
polite refusal, then silence; with --cancel-bookings its reservations are cancelled too (their
invitees are told). Exit codes as in cli_booking: 1 refused, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys

from booking.domain.errors import RuleViolation
from booking.domain.messages import Channel, Sender
from conference_ivr.settings import Settings

COMMANDS = ("sender",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sender = sub.add_parser("sender", help="SMS and e-mail senders: list, block, unblock, limit (R12)")
    s_sub = sender.add_subparsers(dest="sender_command", required=True)
    ls = s_sub.add_parser("list", help="senders with their language, block and limit")
    ls.add_argument("--blocked", action="store_true", help="only blocked senders")

    def target(name: str, help_text: str) -> argparse.ArgumentParser:
        p = s_sub.add_parser(name, help=help_text)
        p.add_argument("channel", choices=[c.value for c in Channel])
        p.add_argument("address", help="a phone number or an e-mail address")
        return p

    block = target("block", "refuse a sender's orders: one polite refusal, then silence")
    block.add_argument("--note", default="", help="why (kept for operators)")
    block.add_argument("--cancel-bookings", action="store_true", help="also cancel the sender's bookings")
    target("unblock", "take orders from a sender again")
    limit = target("limit", "messages per hour a sender may send (R12)")
    limit.add_argument("per_hour", help="a number, or 'default'")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from conference_ivr.dialconf.services import build_services

    service = build_services(settings).messaging
    try:
        if args.sender_command == "list":
            for s in service.senders(args.blocked):
                print(_row(s))
            return 0
        channel = Channel(args.channel)
        if args.sender_command == "block":
            sender, cancelled = service.block(channel, args.address, args.note, args.cancel_bookings)
            print(_row(sender) + (f"  cancelled: {', '.join(map(str, cancelled))}" if cancelled else ""))
        elif args.sender_command == "unblock":
            print(_row(service.unblock(channel, args.address)))
        else:
            per_hour = None if args.per_hour == "default" else _count(args.per_hour)
            print(_row(service.limit(channel, args.address, per_hour)))
    except RuleViolation as exc:
        print(f"dialconf: {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    return 0


def _count(text: str) -> int:
    if not text.isdigit():
        raise RuleViolation("per_hour", f"a number of messages or 'default', not {text!r}")
    return int(text)


def _row(s: Sender) -> str:
    limit = "default" if s.hourly_limit is None else f"{s.hourly_limit}/h"
    state = "BLOCKED" if s.blocked else "ok"
    note = f"  ({s.note})" if s.note else ""
    return f"{s.channel.value:5} {s.address:32} {s.language}  {state:7} limit {limit}{note}"
