"""Recordings leave the disk and the store together (conference_ivr.conference.recording_keeper):
a deleted reservation's at once, the others after the retention, a running one never, a
missing file is no error; and a size as the panel shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from booking.domain.clock import FakeClock
from booking.domain.recording import size_text
from booking.services.booking import BookingService
from booking.services.recordings import RecordingService
from booking.settings import BookingSettings
from conference_ivr.conference.recording_keeper import RecordingKeeper
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_sweep_deletes_due_recordings_from_disk_and_store(tmp_path: Path) -> None:
    uow, clock = FakeUnitOfWork(), FakeClock(T0)
    booking, recordings = BookingService(uow, clock, BookingSettings()), RecordingService(uow, clock)
    room, gone = booking.book(None, None, 5), booking.book(None, None, 5)
    assert room.id is not None and gone.id is not None
    files: dict[str, Path] = {}

    def recorded(name: str, reservation_id: int, finish: bool = True) -> int:
        files[name] = tmp_path / f"{name}.wav"
        if name != "vanished":  # its file is gone already
            files[name].write_bytes(b"RIFF")
        made = recordings.started(reservation_id, name, str(files[name]))
        if finish:
            recordings.finished(made.id, 4)
        return made.id

    recorded("old", room.id)
    recorded("vanished", room.id)
    clock.advance(timedelta(days=60))
    recent = recorded("recent", room.id)
    recorded("deleted", gone.id)
    running = recorded("running", gone.id, finish=False)
    booking.delete(gone.room.profile_id, gone.id)
    clock.advance(timedelta(days=31))

    keeper = RecordingKeeper(recordings, timedelta(days=90), interval_s=60)
    assert keeper.sweep() == 3  # old, vanished (past the retention), deleted (its reservation went)
    assert sorted(n for n, f in files.items() if f.exists()) == ["recent", "running"]
    with uow(read_only=True) as tx:
        assert tx.recordings.get(recent) is not None and tx.recordings.get(running) is not None
        assert len(tx.recordings.for_reservation(room.id)) == 1
    assert keeper.sweep() == 0


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (812, "812 B"), (15_200, "15.2 kB"), (3_400_000, "3.4 MB"), (2_000_000_000, "2.0 GB")],
)
def test_sizes_read_as_people_read_them(size: int, shown: str) -> None:
    assert size_text(size) == shown
