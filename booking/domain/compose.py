"""Texts made from reservations: replies, confirmations, notices and invitations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.domain.capacity import CapacityRefusal
from booking.domain.errors import KeywordError, RuleViolation
from booking.domain.messages import Channel, Kind
from booking.domain.model import Reservation
from booking.domain.texts import Texts
from booking.settings import BookingSettings

NOTICE_KINDS = (Kind.BOOKED, Kind.REMINDER, Kind.STARTING, Kind.CHANGED, Kind.CANCELLED)


class Composer:
    def __init__(
        self,
        access_numbers: Mapping[str, str],
        tz: ZoneInfo,
        service_name: str,
        limits: BookingSettings,
    ) -> None:
        self._access = dict(access_numbers)  # number -> the language its callers hear first
        self.tz = tz
        self._service = service_name
        self._limits = limits

    @property
    def service_name(self) -> str:
        return self._service

    def access(self, language: str) -> str:
        """Every access number, the ones in ``language`` first."""
        numbers = sorted(self._access, key=lambda n: self._access[n] != language)
        return ", ".join(numbers)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def values(self, r: Reservation, t: Texts) -> dict[str, object]:
        """What a text may say about a reservation."""
        v: dict[str, object] = {
            "conference": r.room.conference_number,
            "pin": r.room.pin,
            "admin_pin": r.room.admin_pin,
            "seats": r.participant_limit,
            "access": self.access(t.language),
            "service": self._service,
            "title": r.title or f"{self._service} {r.room.conference_number}",
            "timezone": str(self.tz),
            "date": "",
            "time": "",
            "end_time": "",
            "minutes": "",
        }
        if r.starts_at is not None and r.ends_at is not None:
            start, end = self.local(r.starts_at), self.local(r.ends_at)
            v.update(
                date=t.date(start),
                time=t.time(start),
                end_time=t.time(end),
                minutes=int((r.ends_at - r.starts_at).total_seconds() // 60),
            )
        return v

    # --- replies to orders ------------------------------------------------------------------

    def keyword_error(self, e: KeywordError, t: Texts) -> str:
        params = dict(e.params)
        if e.code == "missing":
            params["field"] = t(f"field.{params['field']}")
        if e.code == "bad_day":
            month = params["month"]
            params["month_name"] = t.month_name(month if isinstance(month, int) else 1)
        return t(f"error.{e.code}", **params)

    def rule_violation(self, e: RuleViolation, t: Texts) -> str:
        s = self._limits
        params = dict(
            max_ahead_days=s.panel_max_ahead_days,
            max_window_days=s.absolute_max_window_days,
            max_rooms=s.max_active_per_profile,
        )
        if t.has(f"rule.{e.code}") and e.code != "other":
            return t(f"rule.{e.code}", **params)
        return t("rule.other", reason=e.reason)

    def capacity(self, refusal: CapacityRefusal, seats: int, t: Texts) -> str:
        busiest = self.local(refusal.busiest_at)
        parts = [
            t(
                "capacity.full",
                busiest=f"{t.date(busiest)} {t.time(busiest)}",
                free=refusal.free_seats,
                seats=seats,
            )
        ]
        options = []
        if refusal.free_seats > 0:
            options.append(t("capacity.fewer", free=refusal.free_seats))
        if refusal.suggested_starts:
            times = ", ".join(
                f"{t.date(self.local(s))} {t.time(self.local(s))}" for s in refusal.suggested_starts
            )
            options.append(t("capacity.times", times=times))
        parts.append((" ".join(options) + ".") if options else t("capacity.none"))
        return " ".join(parts)

    def confirmed(self, r: Reservation, t: Texts, channel: Channel) -> str:
        text = t("reply.confirmed", **self.values(r, t))
        return self.for_channel(text, t, channel)

    def queued(self, r: Reservation, t: Texts) -> str:
        s = self._limits
        return t(
            "reply.queued",
            limit_minutes=s.on_demand_max_minutes,
            limit_seats=s.on_demand_max_seats,
            **self.values(r, t),
        )

    def status(self, found: list[Reservation], t: Texts) -> str:
        if not found:
            return t("reply.status_none")
        lines = []
        for r in found:
            key = "reply.status_item" if r.status.value == "active" else "reply.status_queued"
            lines.append(t(key, **self.values(r, t)))
        return "\n".join(lines)

    @staticmethod
    def for_channel(text: str, t: Texts, channel: Channel) -> str:
        """R13: access data that goes out by e-mail carries the warning."""
        return text if channel is Channel.SMS else f"{text}\n\n{t('reply.email_insecure')}"

    # --- notices and invitations ------------------------------------------------------------

    def notice(self, kind: Kind, channel: Channel, r: Reservation, t: Texts) -> tuple[str, str]:
        """(subject, body) of a notice to an invitee. R26: an SMS says date, time, the number to
        call, the conference number and the PIN, never the ADMIN PIN."""
        v = self.values(r, t)
        if channel is Channel.SMS:
            return "", t(f"notice.sms_{kind.value}", **v)
        body = [t(f"notice.lead_{kind.value}")]
        if kind is not Kind.CANCELLED:
            body.append(t("notice.details", **v).strip() + "\n")
        body.append(t("notice.footer", **v))
        return t(f"notice.subject_{kind.value}", **v), "\n".join(body)

    def invitation_template(self, t: Texts) -> tuple[str, str]:
        return t.cat.entries["invitation.subject"], t.cat.entries["invitation.body"]

    def fill(self, template: str, r: Reservation, t: Texts, extra: Mapping[str, str] | None = None) -> str:
        """An organizer's template with the reservation's values. Only ``{name}`` is replaced
        (no str.format: a template is user input); unknown names stay as written. ``extra``:
        values per recipient (``join_link``: each invitee's own, issue 20)."""
        values = {**self.values(r, t), **(extra or {})}
        return _SLOT.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


_SLOT = re.compile(r"\{([a-z_]+)\}")
TEMPLATE_NAMES = frozenset(
    (
        "conference",
        "pin",
        "admin_pin",
        "seats",
        "access",
        "service",
        "title",
        "timezone",
        "date",
        "time",
        "end_time",
        "minutes",
        "join_link",  # the invitee's personal join link (filled per invitee when sent)
    )
)


def unknown_names(template: str) -> list[str]:
    """Names in ``{...}`` that a template may not use."""
    return sorted({m.group(1) for m in re.finditer(r"\{([^{}]*)\}", template)} - TEMPLATE_NAMES)
