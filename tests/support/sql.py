"""A test's own SQL, beside the store (the product keeps all of its SQL inside booking.store)."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection

from booking.services.ports import UnitOfWork
from booking.store.unit_of_work import SqlUnitOfWork


def sql(uow: UnitOfWork) -> AbstractContextManager[Connection]:
    """A connection in a transaction on the unit of work's database, committed at the end."""
    assert isinstance(uow, SqlUnitOfWork), "a test's SQL needs the real store"
    return uow.engine.begin()
