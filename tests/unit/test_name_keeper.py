"""Recorded names leave the disk and the store together (conference_ivr.conference.name_keeper):
a deleted reservation's at once, the others after the retention, a missing file is no error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest

from booking.domain.clock import FakeClock
from booking.domain.model import Role
from booking.domain.usage import EndReason, Leg
from booking.services.booking import BookingService
from booking.services.usage import UsageService
from booking.settings import BookingSettings
from conference_ivr.conference.name_keeper import NameKeeper
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_sweep_deletes_due_names_from_disk_and_store(tmp_path: Path) -> None:
    uow, clock = FakeUnitOfWork(), FakeClock(T0)
    booking, usage = (
        BookingService(uow, clock, BookingSettings()),
        UsageService(uow, clock, BookingSettings()),
    )
    room, gone = booking.book(None, None, 5), booking.book(None, None, 5)
    assert room.id is not None and gone.id is not None
    files = {}
    with uow() as tx:
        for uid, rid, left_days_ago in (
            ("a", room.id, 31),
            ("b", room.id, 1),
            ("c", gone.id, 0),
            ("d", room.id, 40),
        ):
            name = f"/names/{rid}-{uid}"
            files[uid] = tmp_path / f"{rid}-{uid}.wav"
            if uid != "d":  # its file is gone already
                files[uid].write_bytes(b"RIFF")
            tx.usage.open(
                Leg(uid, "1", rid, "+420221000001", False, Role.PARTICIPANT, name, T0 - timedelta(days=41))
            )
            tx.usage.close(uid, T0 - timedelta(days=left_days_ago), EndReason.LEFT)
    booking.delete(gone.room.profile_id, gone.id)

    def host(inner: PurePosixPath) -> Path:
        return tmp_path / inner.name

    keeper = NameKeeper(usage, host, timedelta(days=30), interval_s=60)
    assert keeper.sweep() == 3
    assert [uid for uid, f in files.items() if f.exists()] == ["b"]
    assert usage.recorded_name(room.id, "+420221000001") == f"/names/{room.id}-b"
    assert keeper.sweep() == 0
