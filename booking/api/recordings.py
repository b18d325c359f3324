"""A reservation's recordings (issue 19): listed with their size and downloaded, by the
reservation's organizer only (anyone else gets 404, as for every route of a reservation)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from booking.api import errors
from booking.api.auth import CurrentProfile
from booking.api.inputs import ReservationId
from booking.domain.bounds import STORE_INT_MAX
from booking.domain.errors import NotFound
from booking.domain.recording import Recording
from booking.services.recordings import RecordingService

router = APIRouter(prefix="/api/reservations", tags=["recordings"], responses=errors.UNAUTHORIZED)

RecordingId = Annotated[int, Path(ge=1, le=STORE_INT_MAX, description="a recording's id")]


def _service(request: Request) -> RecordingService:
    svc = request.app.state.recordings
    assert isinstance(svc, RecordingService)
    return svc


Recordings = Annotated[RecordingService, Depends(_service)]


class RecordingOut(BaseModel):
    id: int
    session_started_at: datetime
    session_ended_at: datetime | None = Field(description="None while the session is still recorded")
    size_bytes: int = Field(description="the file's size (0 until the session ends)")
    download: str | None = Field(description="where the WAV file is fetched, once the session ended")

    @classmethod
    def of(cls, r: Recording) -> RecordingOut:
        done = r.ended_at is not None
        return cls(
            id=r.id,
            session_started_at=r.started_at,
            session_ended_at=r.ended_at,
            size_bytes=r.size_bytes,
            download=f"/api/reservations/{r.reservation_id}/recordings/{r.id}" if done else None,
        )


@router.get(
    "/{reservation_id}/recordings",
    summary="The reservation's recordings",
    description="One per recorded session, oldest first, with the file's size.",
    responses=errors.NOT_FOUND,
)
def list_recordings(
    reservation_id: ReservationId, profile: CurrentProfile, recordings: Recordings
) -> list[RecordingOut]:
    return [RecordingOut.of(r) for r in recordings.for_organizer(profile.id, reservation_id)]


@router.get(
    "/{reservation_id}/recordings/{recording_id}",
    summary="Download one recording",
    description="The session's WAV file (8 kHz mono), once the session ended.",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "the recording"}, **errors.NOT_FOUND},
)
def download_recording(
    reservation_id: ReservationId, recording_id: RecordingId, profile: CurrentProfile, recordings: Recordings
) -> FileResponse:
    found = recordings.one(profile.id, reservation_id, recording_id)
    path = FilePath(found.path)
    if not path.is_file():
        raise NotFound(f"recording {recording_id} is no longer kept")
    return FileResponse(
        path, media_type="audio/wav", filename=f"recording-{reservation_id}-{recording_id}.wav"
    )
