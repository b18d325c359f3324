"""In-memory stand-ins for the booking store, for fast service tests (tests/unit): a
``FakeUnitOfWork`` that keeps a unit's writes only when it succeeds. Reservations, the PIN
guard's counters, usage legs and the live conferences' state (end decisions, live seats) are
held; the other repositories raise NotImplementedError."""

from tests.support.fakes.unit_of_work import FakeTransaction, FakeUnitOfWork

__all__ = ["FakeTransaction", "FakeUnitOfWork"]
