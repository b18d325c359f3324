"""The capacity ledger's statements (booking.store.ledger), built once with their cache keys:
building one costs about as much as running it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.types import NULLTYPE

from booking.domain.model import ReservationStatus
from booking.store.tables import UtcDateTime, capacity_ledger, capacity_slots, reservations

_S = capacity_slots.c
_R = reservations.c
_ACTIVE: ColumnElement[str] = literal_column(
    f"'{ReservationStatus.ACTIVE.value}'"
)  # a literal: the partial indexes
SEEN = "dialconf.ledger_slot"  # Connection.info: the slot length this connection read last
SLOT_SECONDS = select(capacity_ledger.c.slot_seconds).where(capacity_ledger.c.id == 1)
# As stored (SQLite: ISO text, parsed in C; PostgreSQL: naive datetimes): a rebuild reads them all.
CONFIRMED = select(type_coerce(_R.starts_at, NULLTYPE), type_coerce(_R.ends_at, NULLTYPE), _R.seats).where(
    _R.status == _ACTIVE, _R.starts_at.is_not(None), _R.ends_at.is_not(None)
)
HELD = select(type_coerce(_R.starts_at, DateTime()), type_coerce(_R.ends_at, DateTime()), _R.seats).where(
    _R.id == bindparam("id", type_=Integer()), _R.status == ReservationStatus.ACTIVE.value
)
COVERED = select(_S.covered).where(_S.slot == bindparam("slot", type_=BigInteger()))
SET_PEAK = (
    update(capacity_slots)
    .where(_S.slot == bindparam("at_slot", type_=BigInteger()))
    .values(peak=bindparam("new_peak", type_=Integer()))
)
_LO, _HI = bindparam("lo", type_=UtcDateTime()), bindparam("hi", type_=UtcDateTime())
_COLS = (_R.id, type_coerce(_R.starts_at, DateTime()), type_coerce(_R.ends_at, DateTime()), _R.seats)
PARTIALS = union_all(
    select(*_COLS).where(_R.status == _ACTIVE, _R.starts_at > _LO, _R.starts_at < _HI),
    select(*_COLS).where(_R.status == _ACTIVE, _R.ends_at > _LO, _R.ends_at < _HI),
)
_A, _B = bindparam("a", type_=BigInteger()), bindparam("b", type_=BigInteger())
_VALUE = _S.peak - case(
    (
        and_(_S.slot >= bindparam("xa", type_=BigInteger()), _S.slot < bindparam("xb", type_=BigInteger())),
        bindparam("xn", type_=Integer()),
    ),
    else_=0,
)
_INTERIOR = and_(
    _S.slot >= _A,
    _S.slot < _B,
    _S.slot != bindparam("x1", type_=BigInteger()),
    _S.slot != bindparam("x2", type_=BigInteger()),
)
MAX = select(func.max(_VALUE)).where(_INTERIOR)
MAX_AS_SEEN = select(
    SLOT_SECONDS.scalar_subquery(),
    select(func.max(_S.peak)).where(_S.slot >= _A, _S.slot < _B).scalar_subquery(),
)
_COVERED_LESS = _S.covered - case(
    (and_(_S.slot >= bindparam("xa", type_=BigInteger()), _S.slot < bindparam("xb", type_=BigInteger())),
     bindparam("xn", type_=Integer())),
    else_=0,
)  # fmt: skip
ARGMAX = select(_S.slot, _VALUE, _COVERED_LESS).where(_INTERIOR).order_by(_VALUE.desc(), _S.slot).limit(1)
_RANGE = "FROM capacity_slots WHERE slot >= :a AND slot < :b"
PACKED_SQLITE = text(f"SELECT group_concat(slot), group_concat(peak) {_RANGE}")
PACKED_PG = text(f"SELECT string_agg(CAST(slot AS TEXT), ','), string_agg(CAST(peak AS TEXT), ',') {_RANGE}")
GROUP_SQLITE = text(
    "SELECT group_concat(g), group_concat(p) "
    f"FROM (SELECT slot / :g AS g, max(peak) AS p {_RANGE} GROUP BY 1)"
)
GROUP_PG = text(
    "SELECT string_agg(CAST(g AS TEXT), ','), string_agg(CAST(p AS TEXT), ',') "
    f"FROM (SELECT slot / :g AS g, max(peak) AS p {_RANGE} GROUP BY 1) AS grouped"
)
# A booking's seats added to (or taken from) the slots it covers whole: one statement, the
# missing slots made on the way.
ADD_PG = text(
    "INSERT INTO capacity_slots (slot, covered, peak) "
    "SELECT g, :n, :n FROM generate_series(CAST(:a AS BIGINT), CAST(:b AS BIGINT) - 1) AS g "
    "ON CONFLICT (slot) DO UPDATE SET covered = capacity_slots.covered + EXCLUDED.covered, "
    "peak = capacity_slots.peak + EXCLUDED.peak"
)
ADD_SQLITE = text(
    "WITH RECURSIVE g(i) AS (SELECT :a UNION ALL SELECT i + 1 FROM g WHERE i + 1 < :b) "
    "INSERT INTO capacity_slots (slot, covered, peak) SELECT i, :n, :n FROM g WHERE true "
    "ON CONFLICT (slot) DO UPDATE SET covered = covered + excluded.covered, peak = peak + excluded.peak"
)
