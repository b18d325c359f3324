"""A reservation's recordings on the panel (issue 19): each session's file with its size, to
download; for the reservation's organizer only (anyone else sees "no such reservation")."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from booking.domain.errors import NotFound
from booking.domain.recording import size_text
from booking.services.recordings import RecordingService
from booking.web.panel_base import Organizer, Panel, missing
from booking.web.render import pages


def add_recording_routes(router: APIRouter, panel: Panel, recordings: RecordingService) -> None:
    @router.get("/panel/reservations/{reservation_id}/recordings")
    def recordings_page(request: Request, reservation_id: int, profile: Organizer) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
            found = recordings.for_organizer(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        rows = [(x, size_text(x.size_bytes)) for x in reversed(found)]  # the latest first
        context = {"title": "Recordings", "r": r, "rows": rows}
        return pages(request).render(request, "panel_recordings.html", context)

    @router.get("/panel/reservations/{reservation_id}/recordings/{recording_id}")
    def download(request: Request, reservation_id: int, recording_id: int, profile: Organizer) -> Response:
        try:
            found = recordings.one(profile, reservation_id, recording_id)
        except NotFound:
            return missing(request, reservation_id)
        path = Path(found.path)
        if not path.is_file():  # deleted by the retention sweep meanwhile
            return missing(request, reservation_id)
        name = f"recording-{reservation_id}-{recording_id}.wav"
        return FileResponse(path, media_type="audio/wav", filename=name)
