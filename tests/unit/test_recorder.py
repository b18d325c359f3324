"""The controller's side of recording (conference_ivr.conference.recorder) over the fake store
and a recording AMI: a recorded reservation starts at its session's first join, announced; the
moderator's toggle stops and restarts into the same file; the session's end stores the size;
after a restart a running session's recording is picked up and an ended one finished."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from booking.domain.clock import FakeClock
from booking.domain.model import Reservation
from booking.services.booking import BookingService
from booking.services.recordings import RecordingService
from booking.settings import BookingSettings
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.recorder import ConferenceRecorder
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from tests.support.fakes import FakeUnitOfWork
from tests.support.poll import until

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DIR = PurePosixPath("/inst/recordings")


class ActingAmi(AmiClient):
    """Answers every action with success and keeps them."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 9, "u", "s")
        self.actions: list[dict[str, Any]] = []

    async def action(self, fields: dict[str, Any], timeout: float | None = None) -> list[dict[str, str]]:
        self.actions.append(fields)
        return [{"Response": "Success"}]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.actions if a["Action"] == name]


def join(bridge: str, uid: str, session: str = "bridge-1") -> dict[str, str]:
    return {"Event": "ConfbridgeJoin", "Conference": bridge, "Channel": f"PJSIP/a-{uid}", "Uniqueid": uid,
            "Admin": "No", "Muted": "No", "BridgeUniqueid": session}  # fmt: skip


class Bed:
    def __init__(self, tmp_path: Path, record: bool) -> None:
        self.uow, clock = FakeUnitOfWork(), FakeClock(T0)
        booking = BookingService(self.uow, clock, BookingSettings())
        r = booking.book(None, None, seats=5)
        assert r.id is not None
        self.reservation = booking.edit(r.room.profile_id, r.id, record=record)
        self.bridge = names.bridge_name(r.room.conference_number)
        self.recordings = RecordingService(self.uow, clock)
        self.ami = ActingAmi()
        self.live = LiveConferences(self.ami, Metrics(), clock)
        self.tmp = tmp_path
        self.recorder = self.new_recorder()

    def new_recorder(self) -> ConferenceRecorder:
        async def current(number: str) -> Reservation | None:
            return self.reservation if number == self.reservation.room.conference_number else None

        def host(inner: PurePosixPath) -> Path:
            return self.tmp / inner.name

        announcer = Announcer(self.ami, Metrics(), self.live)
        return ConferenceRecorder(
            self.ami, self.live, announcer, self.recordings, current, DIR, host, 0.01, 2
        )

    def sounds(self) -> list[str]:
        return [
            v for a in self.ami.named("Originate") for v in a["Variable"] if v.startswith(names.VAR_SOUND)
        ]


async def test_a_recorded_reservation_starts_at_the_first_join_and_finishes_with_its_size(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, record=True)
    await bed.live.on_event(parse_event(join(bed.bridge, "a")))
    (start,) = bed.ami.named(names.AMI_START_RECORD)
    assert start["Conference"] == bed.bridge
    assert start["RecordFile"] == f"{DIR}/{bed.reservation.id}-bridge-1.wav"
    assert bed.recorder.recording(bed.bridge)
    assert bed.sounds() == [f"{names.VAR_SOUND}=dialconf/being_recorded"]
    await bed.live.on_event(parse_event(join(bed.bridge, "b")))
    assert len(bed.ami.named(names.AMI_START_RECORD)) == 1  # once per session
    (stored,) = bed.recordings.unfinished()
    assert stored.path == str(tmp_path / f"{bed.reservation.id}-bridge-1.wav")
    Path(stored.path).write_bytes(b"RIFF" + bytes(996))
    await bed.recorder.on_event(parse_event({"Event": "ConfbridgeEnd", "Conference": bed.bridge}))
    assert not bed.recorder.recording(bed.bridge)
    assert bed.reservation.id is not None
    done = await until(
        lambda: [
            r
            for r in bed.recordings.for_organizer(bed.reservation.room.profile_id, bed.reservation.id)
            if r.ended_at
        ],
        5,
        "finished",
    )
    assert done[0].size_bytes == 1000


async def test_the_moderator_toggles_into_one_file_per_session(tmp_path: Path) -> None:
    bed = Bed(tmp_path, record=False)
    await bed.live.on_event(parse_event(join(bed.bridge, "a")))
    assert not bed.ami.named(names.AMI_START_RECORD) and not bed.recorder.recording(bed.bridge)
    number = bed.reservation.room.conference_number
    assert await bed.recorder.toggle(bed.bridge, number) is True
    assert await bed.recorder.toggle(bed.bridge, number) is False
    assert bed.ami.named(names.AMI_STOP_RECORD) == [
        {"Action": names.AMI_STOP_RECORD, "Conference": bed.bridge}
    ]
    assert await bed.recorder.toggle(bed.bridge, number) is True
    files = {a["RecordFile"] for a in bed.ami.named(names.AMI_START_RECORD)}
    assert len(files) == 1 and len(bed.recordings.unfinished()) == 1
    assert bed.sounds() == [
        f"{names.VAR_SOUND}=dialconf/{p}" for p in ("being_recorded", "recording_stopped", "being_recorded")
    ]
    assert await bed.recorder.toggle("conf-999999", "999999") is None  # no reservation runs there


async def test_after_a_restart_a_running_session_is_picked_up_and_an_ended_one_finished(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, record=True)
    assert bed.reservation.id is not None
    ended = bed.recordings.started(bed.reservation.id, "bridge-0", str(tmp_path / "ended.wav"))
    (tmp_path / "ended.wav").write_bytes(b"RIFF" + bytes(60))
    running = bed.recordings.started(bed.reservation.id, "bridge-1", str(tmp_path / "running.wav"))
    await bed.live.on_event(parse_event(join(bed.bridge, "a")))  # as the rebuilt model holds it
    bed.ami.actions.clear()
    restarted = bed.new_recorder()
    await restarted._rebuilt()  # what LiveConferences.resync runs
    assert restarted.recording(bed.bridge) and not bed.ami.named(names.AMI_START_RECORD)
    assert [
        r.id
        for r in await until(
            lambda: bed.recordings.unfinished() if len(bed.recordings.unfinished()) == 1 else None, 5
        )
    ] == [running.id]
    got = bed.uow.view().recordings.get(ended.id)
    assert got is not None and got.size_bytes == 64
    number = bed.reservation.room.conference_number
    assert await restarted.toggle(bed.bridge, number) is False  # stops the one picked up
