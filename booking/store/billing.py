"""Tariff versions, account plans and rated legs in the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from booking.domain.rating import RatedLeg
from booking.domain.usage import Leg
from booking.store.billing_tables import account_plans, rated_legs, tariff_versions
from booking.store.tables import reservations, rooms
from booking.store.usage import _leg, usage_legs

RATED_FIELDS = tuple(f.name for f in dataclasses.fields(RatedLeg))


def _rated(row: Any) -> RatedLeg:
    return RatedLeg(**{name: getattr(row, name) for name in RATED_FIELDS})


class BillingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- tariffs and plans --------------------------------------------------------------

    def current_tariff(self) -> tuple[int, str] | None:
        q = (
            select(tariff_versions.c.id, tariff_versions.c.text)
            .order_by(tariff_versions.c.id.desc())
            .limit(1)
        )
        row = self.conn.execute(q).first()
        return None if row is None else (int(row.id), str(row.text))

    def add_tariff(self, text: str, note: str, now: datetime) -> int:
        result = self.conn.execute(insert(tariff_versions).values(text=text, note=note[:200], loaded_at=now))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def tariff_history(self) -> list[tuple[int, datetime, str]]:
        c = tariff_versions.c
        return [
            (r.id, r.loaded_at, r.note)
            for r in self.conn.execute(select(c.id, c.loaded_at, c.note).order_by(c.id))
        ]

    def plan_of(self, profile_id: int) -> str | None:
        q = select(account_plans.c.plan).where(account_plans.c.profile_id == profile_id)
        value = self.conn.execute(q).scalar_one_or_none()
        return None if value is None else str(value)

    def set_plan(self, profile_id: int, plan: str) -> None:
        done = self.conn.execute(
            update(account_plans).where(account_plans.c.profile_id == profile_id).values(plan=plan)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(account_plans).values(profile_id=profile_id, plan=plan))

    # --- legs and their owners ----------------------------------------------------------

    def closed_legs(self, since: datetime, until: datetime) -> list[tuple[Leg, int | None]]:
        """Closed legs that joined in [since, until), each with the profile that owns it."""
        q = (
            select(usage_legs, rooms.c.profile_id)
            .select_from(
                usage_legs.outerjoin(
                    reservations, reservations.c.id == usage_legs.c.reservation_id
                ).outerjoin(rooms, rooms.c.id == reservations.c.room_id)
            )
            .where(
                usage_legs.c.joined_at >= since,
                usage_legs.c.joined_at < until,
                usage_legs.c.left_at.is_not(None),
            )
            .order_by(usage_legs.c.joined_at, usage_legs.c.uniqueid)
        )
        return [(_leg(r), r.profile_id) for r in self.conn.execute(q)]

    def legs(self, uniqueids: Sequence[str]) -> dict[str, Leg]:
        if not uniqueids:
            return {}
        q = select(usage_legs).where(usage_legs.c.uniqueid.in_(list(uniqueids)))
        return {r.uniqueid: _leg(r) for r in self.conn.execute(q)}

    # --- rated legs -------------------------------------------------------------------------

    def rated(self, month: str, profile_id: int | None = None) -> list[RatedLeg]:
        q = select(rated_legs).where(rated_legs.c.month == month)
        if profile_id is not None:
            q = q.where(rated_legs.c.profile_id == profile_id)
        return [_rated(r) for r in self.conn.execute(q.order_by(rated_legs.c.uniqueid))]

    def rated_for(self, uniqueids: Sequence[str]) -> dict[str, RatedLeg]:
        if not uniqueids:
            return {}
        q = select(rated_legs).where(rated_legs.c.uniqueid.in_(list(uniqueids)))
        return {r.uniqueid: _rated(r) for r in self.conn.execute(q)}

    def put_rated(self, found: RatedLeg, version: int, now: datetime, before: RatedLeg | None) -> bool:
        """Write a rating; an unchanged one is left as it is (its rated_at too). True if written."""
        if before == found:
            return False
        values = dataclasses.asdict(found) | {"tariff_version": version, "rated_at": now}
        if before is None:
            self.conn.execute(insert(rated_legs).values(**values))
        else:
            self.conn.execute(
                update(rated_legs).where(rated_legs.c.uniqueid == found.uniqueid).values(**values)
            )
        return True

    def drop_rated(self, month: str, keep: set[str]) -> int:
        """Ratings of ``month`` whose leg is no longer there (or no longer closed)."""
        q = select(rated_legs.c.uniqueid).where(rated_legs.c.month == month)
        gone = [u for u in self.conn.execute(q).scalars() if u not in keep]
        if gone:
            self.conn.execute(delete(rated_legs).where(rated_legs.c.uniqueid.in_(gone)))
        return len(gone)

    def months(self, profile_id: int) -> list[str]:
        q = select(rated_legs.c.month, func.count()).where(rated_legs.c.profile_id == profile_id)
        return [
            str(r.month)
            for r in self.conn.execute(q.group_by(rated_legs.c.month).order_by(rated_legs.c.month))
        ]
