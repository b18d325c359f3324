"""Prometheus metrics of the controller, on a registry the composition root creates.

Names follow Prometheus conventions (snake_case, base units, ``_total`` on counters, added by
prometheus_client); labels take only a few fixed values, never a conference or a caller number.
Roles and extension results start at 0, so they are series before the first event; join
failure reasons appear with their first occurrence (the dashboard lists every known one).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from booking.domain.pin_guard import SCOPES
from conference_ivr.errors import JoinFailure

# Why a call ended without joining (conference_ivr.ivr.journey); tests/unit pins the list.
JOIN_FAILURE_REASONS = tuple(r.value for r in JoinFailure)
# Why a FastAGI connection was closed unserved (peer, capacity) or dropped (reply_timeout).
AGI_DROP_REASONS = ("peer", "capacity", "reply_timeout")
# Why a dial-out request was refused (booking.services.dialout.DialOutService), from the keypad or
# the live page.
DIALOUT_REFUSALS = (
    "not_dial_out",
    "not_running",
    "not_dialable",
    "premium",
    "abroad",
    "not_allowed",
    "limit",
    "rate",
)
# Seats reserved now and at the busiest instant of the next hours (booking.services.figures).
SEAT_HORIZONS = ("now", "1h", "2h", "4h")
LOCKOUT_SCOPES = SCOPES  # the PIN guard's keys: conference, caller, web-conference, web

_STEP_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_JOIN_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.calls = Counter("dialconf_calls", "Calls answered by the dial-in IVR.", registry=r)
        self.joins = Counter("dialconf_joins", "Callers let into a conference.", ["role"], registry=r)
        # Several media nodes (issue 21): every node's figures, as the store last heard them, on
        # every node's /metrics, labelled by node (so one scrape shows the whole cluster).
        self.relays = Counter(
            "dialconf_relays", "Callers bridged on to the node that mixes their conference.", registry=r
        )
        self.rejoins = Counter(
            "dialconf_rejoins", "Relayed callers placed again after their hosting node died.", registry=r
        )
        self.leases_lost = Counter(
            "dialconf_leases_lost", "Conferences this node found hosted elsewhere on renewal.", registry=r
        )
        self.leases_held = Gauge("dialconf_leases_held", "Conferences this node hosts.", registry=r)
        self.node_members = Gauge(
            "dialconf_node_members", "Members in each node's conferences.", ["node"], registry=r
        )
        self.node_alive = Gauge(
            "dialconf_node_alive", "1 while a node's heartbeat is recent.", ["node"], registry=r
        )
        self.join_failures = Counter(
            "dialconf_join_failures", "Calls that ended without joining, by reason.", ["reason"], registry=r
        )
        self.agi_exchange_seconds = Histogram(
            "dialconf_agi_exchange_seconds",
            "Round trip of one AGI command, by command.",
            ["command"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )
        self.step_seconds = Histogram(
            "dialconf_controller_step_seconds",
            "Controller time spent deciding one IVR step (excluding caller time).",
            ["step"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )
        self.answer_to_join_seconds = Histogram(
            "dialconf_answer_to_join_seconds",
            "Time from answering a call to its ConfbridgeJoin.",
            buckets=_JOIN_BUCKETS,
            registry=r,
        )
        self.pin_lockouts = Counter(
            "dialconf_pin_lockouts", "Callers refused because their PIN guessing was locked out.", registry=r
        )
        self.pin_wrong_guesses = Counter(
            "dialconf_pin_wrong_guesses",
            "Conference numbers or codes keyed that were not right (one answer for both).",
            registry=r,
        )
        self.pin_attacks = Counter(
            "dialconf_pin_attacks",
            "Conferences that used up their budget of wrong guesses: PIN guessing under way "
            "(the security log names the conference).",
            registry=r,
        )
        self.pin_throttled = Counter(
            "dialconf_pin_throttled",
            "Callers refused unheard: their conference was over its guessing budget and their "
            "number had not joined it before.",
            registry=r,
        )
        self.menu_actions = Counter(
            "dialconf_menu_actions", "Keypad actions handled by the controller.", ["action"], registry=r
        )
        self.announcements = Counter(
            "dialconf_announcements", "Sounds played into conferences.", ["kind"], registry=r
        )
        self.extensions = Counter(
            "dialconf_extensions",
            "Decisions to extend a conference past its booked end.",
            ["result"],
            registry=r,
        )
        self.mobile_cuts = Counter(
            "dialconf_mobile_cuts", "Mobile callers cut at the mobile call cap (R10).", registry=r
        )
        self.terminations = Counter(
            "dialconf_terminations", "Conferences closed at their booked end (capacity needed).", registry=r
        )
        self.moderator_ends = Counter(
            "dialconf_moderator_ends", "Conferences ended for everyone by a moderator.", registry=r
        )
        self.ami_reconnects = Counter(
            "dialconf_ami_reconnects",
            "AMI logins after the first (lost connection, Asterisk restart).",
            registry=r,
        )
        self.agi_dropped = Counter(
            "dialconf_agi_dropped",
            "FastAGI connections closed unserved (peer not allowed, too many sessions) or dropped "
            "(no reply in time), by reason.",
            ["reason"],
            registry=r,
        )
        self.dialout_refused = Counter(
            "dialconf_dialout_refused",
            "Dial-out requests refused (keypad, live page), by reason.",
            ["reason"],
            registry=r,
        )
        self.agi_sessions = Gauge("dialconf_agi_sessions", "FastAGI sessions in progress.", registry=r)
        self.ami_up = Gauge("dialconf_ami_up", "1 when the AMI connection is logged in.", registry=r)
        self.conferences_live = Gauge("dialconf_conferences_live", "Conferences running now.", registry=r)
        self.members_live = Gauge("dialconf_members_live", "Members in running conferences.", registry=r)
        # Set from the booking store by booking.services.figures (read off the event loop).
        self.seats_reserved = Gauge(
            "dialconf_seats_reserved",
            "Seats reserved now (horizon=now) or at the busiest instant from now to now+horizon.",
            ["horizon"],
            registry=r,
        )
        self.seats_capacity = Gauge(
            "dialconf_seats_capacity", "Seats all bookings share at any instant.", registry=r
        )
        self.live_seats = Gauge(
            "dialconf_live_seats",
            "Seats live members of anytime rooms hold now in the shared capacity, beside the "
            "seats reserved (an anytime room reserves none in advance).",
            registry=r,
        )
        self.pin_lockouts_active = Gauge(
            "dialconf_pin_lockouts_active",
            "PIN-guessing keys held now, by scope: a caller number or web client locked out, a "
            "conference throttled (phone or web).",
            ["scope"],
            registry=r,
        )
        self.booking_figures_timestamp = Gauge(
            "dialconf_booking_figures_timestamp_seconds",
            "When the seat and lockout gauges were last read from the booking store (Unix time).",
            registry=r,
        )
        for role in ("participant", "moderator"):
            self.joins.labels(role=role)
        for result in ("granted", "denied"):
            self.extensions.labels(result=result)
        for reason in AGI_DROP_REASONS:
            self.agi_dropped.labels(reason=reason)
        for reason in DIALOUT_REFUSALS:
            self.dialout_refused.labels(reason=reason)
