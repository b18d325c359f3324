"""Billing use cases: tariffs in the store, rating a month, statements, session reports."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.domain import tariff_file
from booking.domain.addresses import normalise_email
from booking.domain.bounds import FIRST_YEAR, LAST_YEAR
from booking.domain.clock import Clock
from booking.domain.errors import AddressError, NotFound, RuleViolation, TariffError
from booking.domain.month_end import ProfileMail
from booking.domain.rating import RatedLeg, rate_leg, rate_sms
from booking.domain.statement import ReportRow, Statement, session_report, statement, statement_csv
from booking.domain.tariff import Plan, plan_for
from booking.domain.tariff_changes import changed_entries, check_notice
from booking.domain.tariff_file import Tariffs
from booking.domain.usage import Leg
from booking.services.ports import Billing, Transaction, UnitOfWork

DEFAULT_PLAN = "on_demand"
# Tells customers of a price change by SMS (R62): (tariff version, first day, what changes) -> sent to.
Announce = Callable[[int, date, list[str]], int]
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits: \d also matches other scripts


@dataclass(frozen=True)
class RatingRun:
    month: str
    tariff_version: int
    legs: int
    changed: int  # written now: new legs, or legs a tariff change prices differently
    dropped: int


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a calendar month of the service's time zone starts and ends at."""
    m = _MONTH.fullmatch(month)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        shown = f", not {month!r}" if len(month) <= 16 else ""
        raise RuleViolation("month", f"a month is written YYYY-MM, e.g. 2027-07{shown}", "bad_month")
    year, mon = int(m.group(1)), int(m.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:  # year 0 does not exist; 9999-12 has no next month
        raise RuleViolation("month", f"a month between {FIRST_YEAR}-01 and {LAST_YEAR}-12", "bad_month")
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start, end


class BillingService:
    notice_days = 31  # R62: price changes are announced at least this long ahead

    def __init__(self, uow: UnitOfWork, clock: Clock, tz: ZoneInfo, announce: Announce | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self.tz = tz
        self._announce = announce

    # --- tariffs and plans --------------------------------------------------------------

    def tariffs(self) -> tuple[int, Tariffs]:
        """The tariff in force; the shipped default is loaded into an empty store first."""
        with self._uow(read_only=True) as tx:
            current = tx.billing.current_tariff()
        if current is None:
            self.load_tariff(tariff_file.default_text(), "the default tariff (booking/domain/tariffs.toml)")
            with self._uow(read_only=True) as tx:
                current = tx.billing.current_tariff()
            assert current is not None
        version, text = current
        return version, tariff_file.load(text)

    def tariff_text(self) -> tuple[int, str]:
        self.tariffs()
        with self._uow(read_only=True) as tx:
            current = tx.billing.current_tariff()
        assert current is not None
        return current

    def load_tariff(self, text: str, note: str = "", fix: bool = False) -> int:
        """A new tariff version (validated first: a bad file changes nothing).

        R62: a price change must start at least 31 days ahead, and is announced by SMS. A change
        of prices already in force is a correction: it needs ``fix`` (then re-rate the months).
        """
        try:
            new = tariff_file.load(text)
        except TariffError as e:
            raise RuleViolation("tariff", str(e), "bad_tariff") from e
        with self._uow(read_only=True) as tx:
            current = tx.billing.current_tariff()
        today = self._clock.now().astimezone(self.tz).date()
        changes = changed_entries(tariff_file.load(current[1]) if current else None, new)
        if current is not None and not fix:
            check_notice(changes, today, self.notice_days)
        with self._uow() as tx:
            version = tx.billing.add_tariff(text, note, self._clock.now())
        future = [c for c in changes if c.starts > today]
        if future and self._announce is not None:
            self._announce(version, min(c.starts for c in future), [c.describe() for c in future])
        return version

    def plan_name(self, profile_id: int) -> str:
        with self._uow(read_only=True) as tx:
            return tx.billing.plan_of(profile_id) or DEFAULT_PLAN

    def set_plan(self, profile_id: int, plan: str) -> None:
        _, t = self.tariffs()
        names = sorted({p.name for p in t.plans})
        if plan not in names:
            raise RuleViolation(
                "plan", f"no plan {plan!r}; the tariff has {', '.join(names)}", "unknown_plan"
            )
        with self._uow() as tx:
            if tx.reservations.get_profile(profile_id) is None:
                raise NotFound(f"no profile {profile_id}")
            tx.billing.set_plan(profile_id, plan)

    # --- rating -----------------------------------------------------------------------------

    def rate_month(self, month: str) -> RatingRun:
        """Rate every closed leg that joined in ``month`` with the tariff in force. Idempotent:
        a second run writes nothing; after a tariff fix only the legs it prices differently."""
        since, until = month_bounds(month, self.tz)
        version, t = self.tariffs()
        now = self._clock.now()
        changed = 0
        with self._uow() as tx:
            store = tx.billing
            found = store.closed_legs(since, until)
            before = store.rated_for([leg.uniqueid for leg, _ in found])
            plans: dict[int, str] = {}
            for leg, profile_id in found:
                plan = self._plan(store, t.plans, profile_id, plans, leg.joined_at.astimezone(self.tz).date())
                rated = rate_leg(leg, t.rules, plan, profile_id, self.tz)
                changed += store.put_rated(rated, version, now, before.get(leg.uniqueid))
            dropped = store.drop_rated(month, {leg.uniqueid for leg, _ in found})
        return RatingRun(month, version, len(found), changed, dropped)

    def rated(self, month: str, profile_id: int | None = None) -> list[RatedLeg]:
        """The ratings stored for ``month`` (as the last rating run left them)."""
        month_bounds(month, self.tz)
        with self._uow(read_only=True) as tx:
            return tx.billing.rated(month, profile_id)

    @staticmethod
    def _plan(
        store: Billing,
        plans: tuple[Plan, ...],
        profile_id: int | None,
        cache: dict[int, str],
        day: date,
    ) -> Plan | None:
        if profile_id is None:
            return None  # a leg of no reservation belongs to no account: nobody is billed
        if profile_id not in cache:
            cache[profile_id] = store.plan_of(profile_id) or DEFAULT_PLAN
        return plan_for(plans, cache[profile_id], day)

    # --- statements and reports -------------------------------------------------------------

    def statement(self, profile_id: int, month: str) -> Statement:
        return self.statement_and_csv(profile_id, month)[0]

    def statement_csv(self, profile_id: int, month: str) -> str:
        return self.statement_and_csv(profile_id, month)[1]

    def statement_and_csv(self, profile_id: int, month: str, rate: bool = True) -> tuple[Statement, str]:
        """The statement and its CSV from one read. ``rate``: rate the month first (the
        month-end run rates once, then builds every organizer's)."""
        if rate:
            self.rate_month(month)
        _, t = self.tariffs()
        since, until = month_bounds(month, self.tz)
        with self._uow(read_only=True) as tx:
            store = tx.billing
            rated = store.rated(month, profile_id)
            legs = store.legs([r.uniqueid for r in rated])
            plan = plan_for(t.plans, store.plan_of(profile_id) or DEFAULT_PLAN, since.date())
            sms = [rate_sms(m, t.sms, self.tz) for m in tx.statements.paid_sms(since, until, profile_id)]
        s = statement(profile_id, month, plan, rated, legs, sms)
        return s, statement_csv(s, rated, legs)

    # --- where statements and reports are e-mailed ------------------------------------------

    def mail_settings(self, profile_id: int) -> tuple[str | None, ProfileMail]:
        """(the profile's own address, what is in force: that one or its ordering address)."""
        with self._uow(read_only=True) as tx:
            found = tx.statements.profile_mail(profile_id)
            own = tx.statements.own_mail_address(profile_id)
        if found is None:
            raise NotFound(f"no profile {profile_id}")
        return own, found

    def set_mail_settings(self, profile_id: int, address: str | None, reports: bool) -> ProfileMail:
        """Where statements (and, when ``reports``, each session's report) are e-mailed; no
        address: the one the profile orders by e-mail from, if any."""
        try:
            clean = normalise_email(address) if address and address.strip() else None
        except AddressError as e:
            raise RuleViolation("address", str(e), "bad_address") from e
        with self._uow() as tx:
            if not tx.statements.set_profile_mail(profile_id, clean, reports):
                raise NotFound(f"no profile {profile_id}")
        return self.mail_settings(profile_id)[1]

    def sessions(self, profile_id: int, reservation_id: int) -> list[tuple[str, datetime, int]]:
        """A reservation's sessions (R29): id, first join, legs."""
        legs = self._legs(profile_id, reservation_id)
        found: dict[str, tuple[datetime, int]] = {}
        for leg in legs:
            key = leg.session_id or ""
            first, count = found.get(key, (leg.joined_at, 0))
            found[key] = (min(first, leg.joined_at), count + 1)
        return sorted(((k, at, n) for k, (at, n) in found.items()), key=lambda s: s[1])

    def session_report(self, profile_id: int, reservation_id: int, session_id: str) -> list[ReportRow]:
        legs = [leg for leg in self._legs(profile_id, reservation_id) if (leg.session_id or "") == session_id]
        if not legs:
            raise NotFound(f"no session {session_id!r} of reservation {reservation_id}")
        for month in sorted({f"{leg.joined_at.astimezone(self.tz):%Y-%m}" for leg in legs}):
            self.rate_month(month)
        with self._uow(read_only=True) as tx:
            rated = tx.billing.rated_for([leg.uniqueid for leg in legs])
        return session_report(legs, rated)

    def _legs(self, profile_id: int, reservation_id: int) -> list[Leg]:
        with self._uow(read_only=True) as tx:
            _owned(tx, profile_id, reservation_id)
            return tx.usage.for_reservation(reservation_id)


def _owned(tx: Transaction, profile_id: int, reservation_id: int) -> None:
    r = tx.reservations.get_reservation(reservation_id)
    if r is None or r.room.profile_id != profile_id:
        raise NotFound(f"no reservation {reservation_id}")
