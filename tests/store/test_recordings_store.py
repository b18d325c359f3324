"""Recordings on both backends (issue 19): stored at the start, finished once, listed per
reservation, the record option kept, and due for deletion with the reservation or after the
retention."""

from __future__ import annotations

from datetime import timedelta

from booking.domain.recording import RecordingDraft
from booking.services.recordings import RecordingService
from tests.store.conftest import T0, Store


def test_a_recording_is_stored_finished_once_and_listed(store: Store) -> None:
    svc = store.service()
    r = svc.book(T0 + timedelta(hours=1), 60, 5)
    assert r.id is not None
    recorded = svc.edit(r.room.profile_id, r.id, record=True)
    assert recorded.record and svc.get(r.room.profile_id, r.id).record
    with store.uow() as tx:
        first = tx.recordings.add(RecordingDraft(r.id, "s1", T0, "/rec/a.wav"))
        second = tx.recordings.add(RecordingDraft(r.id, "s2", T0 + timedelta(hours=1), "/rec/b.wav"))
    with store.uow() as tx:
        assert [x.id for x in tx.recordings.unfinished()] == [first.id, second.id]
        assert tx.recordings.finish(first.id, T0 + timedelta(minutes=30), 123_456_789_012)
        assert not tx.recordings.finish(first.id, T0 + timedelta(minutes=40), 1)  # finished stays so
    with store.uow(read_only=True) as tx:
        got = tx.recordings.get(first.id)
        assert got is not None and got.ended_at == T0 + timedelta(minutes=30)
        assert got.size_bytes == 123_456_789_012  # beyond 32 bits
        assert [x.id for x in tx.recordings.for_reservation(r.id)] == [first.id, second.id]
        assert [x.id for x in tx.recordings.unfinished()] == [second.id]


def test_due_with_the_reservation_or_after_the_retention(store: Store) -> None:
    svc = store.service()
    kept, gone = svc.book(None, None, 5), svc.book(None, None, 5)
    assert kept.id is not None and gone.id is not None
    recordings = RecordingService(store.uow, store.clock)
    old = recordings.started(kept.id, "old", "/rec/old.wav")
    recent = recordings.started(kept.id, "recent", "/rec/recent.wav")
    deleted = recordings.started(gone.id, "s", "/rec/gone.wav")
    running = recordings.started(gone.id, "running", "/rec/running.wav")
    assert recordings.started(kept.id, "old", "/elsewhere.wav") == old  # the same session: the same row
    recordings.finished(old.id, 10)
    store.clock.advance(timedelta(days=80))
    for r in (recent, deleted):
        recordings.finished(r.id, 10)
    svc.delete(gone.room.profile_id, gone.id)
    store.clock.advance(timedelta(days=15))
    due = recordings.expired(timedelta(days=90))
    assert {r.id for r in due} == {old.id, deleted.id}  # a running one waits for its end
    assert recordings.forget([r.id for r in due]) == 2
    assert recordings.expired(timedelta(days=90)) == []
    assert [r.id for r in recordings.unfinished()] == [running.id]
