"""Prometheus metrics of the controller, on a registry the composition root creates."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_STEP_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_JOIN_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.calls = Counter("dialconf_calls", "Calls answered by the dial-in IVR.", registry=r)
        self.joins = Counter("dialconf_joins", "Callers let into a conference.", ["role"], registry=r)
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
        self.agi_sessions = Gauge("dialconf_agi_sessions", "FastAGI sessions in progress.", registry=r)
        self.ami_up = Gauge("dialconf_ami_up", "1 when the AMI connection is logged in.", registry=r)
        self.conferences_live = Gauge("dialconf_conferences_live", "Conferences running now.", registry=r)
        self.members_live = Gauge("dialconf_members_live", "Members in running conferences.", registry=r)
