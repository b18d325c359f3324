"""Conference recording (issue 19): ConfBridge's own recording, one file per session.

A reservation booked with ``record`` is recorded from its session's first join; a moderator
starts and stops it with a key (``ivr/menu.py``). Each start is announced into the conference
(the announcer), and the journey tells everyone who joins while it runs (``recording``). The
file is named per session (``<reservation>-<bridge unique id>.wav`` under the instance's
recordings directory), so a stop and a start again append to the same file
(``record_file_append``). Stored when it starts; when the session ends (ConfbridgeEnd) the
file's size is read once MixMonitor has let go of it, and the row is finished.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from booking.domain.model import Reservation
from booking.domain.recording import Recording
from booking.services.recordings import RecordingService
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import AmiEvent, ConfbridgeEnd
from conference_ivr.conference.announcer import Announcer
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Member
from conference_ivr.errors import AmiError
from conference_ivr.pbx import names

log = structlog.get_logger(__name__)

# The reservation running under a conference number now, if any (off the event loop).
CurrentReservation = Callable[[str], Awaitable[Reservation | None]]


@dataclass
class _Session:
    recording: Recording
    file: PurePosixPath  # as Asterisk sees it
    on: bool = False


class ConferenceRecorder:
    def __init__(
        self,
        ami: AmiClient,
        live: LiveConferences,
        announcer: Announcer,
        recordings: RecordingService,
        current: CurrentReservation,
        directory: PurePosixPath,
        host_path: Callable[[PurePosixPath], Path],
        settle_s: float = 0.5,
        settle_deadline_s: float = 20.0,
    ) -> None:
        self._ami = ami
        self._live = live
        self._announcer = announcer
        self._recordings = recordings
        self._current = current
        self._dir = directory
        self._host_path = host_path  # a file as Asterisk sees it -> the file on this host
        self._settle_s = settle_s
        self._settle_deadline_s = settle_deadline_s
        self._sessions: dict[str, _Session] = {}  # bridge -> this session's recording
        self._toggling: set[str] = set()
        self._finishing: set[asyncio.Task[None]] = set()
        live.on_joined(self._joined)
        live.on_rebuilt(self._rebuilt)

    def recording(self, bridge: str) -> bool:
        """Whether ``bridge`` is being recorded now (a joiner is told so)."""
        session = self._sessions.get(bridge)
        return session is not None and session.on

    async def toggle(self, bridge: str, number: str) -> bool | None:
        """The moderator's key: True started, False stopped, None not possible now (no
        reservation runs, or another toggle is under way). AmiError when Asterisk refused."""
        if bridge in self._toggling:
            return None
        self._toggling.add(bridge)
        try:
            if self.recording(bridge):
                await self._stop(bridge)
                return False
            reservation = await self._current(number)
            if reservation is None:
                return None
            await self._start(bridge, reservation)
            return True
        finally:
            self._toggling.discard(bridge)

    # --- starting and stopping ---------------------------------------------------------------

    async def _joined(self, member: Member) -> None:
        """The session's first member: a reservation booked with ``record`` starts recording."""
        conference = self._live.conference(member.bridge)
        if conference is None or set(conference.members) != {member.uniqueid}:
            return
        number = names.parse_bridge_name(member.bridge)
        reservation = await self._current(number) if number else None
        if reservation is None or not reservation.record or self.recording(member.bridge):
            return
        try:
            await self._start(member.bridge, reservation)
        except AmiError:
            log.warning("recording.start_failed", bridge=member.bridge)

    async def _start(self, bridge: str, reservation: Reservation) -> None:
        session = self._sessions.get(bridge)
        if session is None:
            assert reservation.id is not None
            session_id = self._session_id(bridge)
            file = self._dir / f"{reservation.id}-{session_id}.wav"
            stored = await asyncio.to_thread(
                self._recordings.started, reservation.id, session_id, str(self._host_path(file))
            )
            session = self._sessions[bridge] = _Session(stored, PurePosixPath(file))
        await self._ami.action(
            {"Action": names.AMI_START_RECORD, "Conference": bridge, "RecordFile": str(session.file)}
        )
        session.on = True
        log.info("recording.started", bridge=bridge, recording=session.recording.id)
        await self._announce(bridge, "being_recorded")

    async def _stop(self, bridge: str) -> None:
        session = self._sessions[bridge]
        try:
            await self._ami.action({"Action": names.AMI_STOP_RECORD, "Conference": bridge})
        finally:
            # Refused too: after a restart the recorder may believe a stopped recording runs.
            session.on = False
        log.info("recording.stopped", bridge=bridge, recording=session.recording.id)
        await self._announce(bridge, "recording_stopped")

    async def _announce(self, bridge: str, phrase: str) -> None:
        try:
            await self._announcer.announce(bridge, [f"dialconf/{phrase}"], phrase)
        except AmiError:
            log.warning("announce.failed", conference=bridge, kind=phrase)

    def _session_id(self, bridge: str) -> str:
        """The bridge's unique id (one per session, R29), as its members' joins carry it."""
        conference = self._live.conference(bridge)
        for member in conference.in_order() if conference is not None else []:
            if member.session:
                return member.session
        return uuid.uuid4().hex

    # --- the session's end, and a restart ----------------------------------------------------

    async def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, ConfbridgeEnd) and (session := self._sessions.pop(event.conference, None)):
            self._finish_later(session.recording)

    def _finish_later(self, recording: Recording) -> None:
        task = asyncio.create_task(self._finish(recording))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, recording: Recording) -> None:
        try:
            size = await asyncio.to_thread(self._settled_size, Path(recording.path))
            await asyncio.to_thread(self._recordings.finished, recording.id, size)
            log.info("recording.finished", recording=recording.id, size_bytes=size)
        except Exception:
            log.exception("recording.finish_failed", recording=recording.id)

    def _settled_size(self, path: Path) -> int:
        """The file's size once it stops growing: MixMonitor closes it (and writes the WAV
        header) just after the session ends."""
        deadline = time.monotonic() + self._settle_deadline_s
        last = -1
        while True:
            size = path.stat().st_size if path.exists() else 0
            if (size == last and size > 0) or time.monotonic() > deadline:
                return size
            last = size
            time.sleep(self._settle_s)

    async def _rebuilt(self) -> None:
        """After a (re)connect: a recording whose session still runs is picked up again (as
        running: Asterisk does not say); one whose session ended meanwhile is finished."""
        try:
            unfinished = await asyncio.to_thread(self._recordings.unfinished)
        except Exception:
            log.exception("recording.reconcile_failed")
            return
        ours = {s.recording.id for s in self._sessions.values()}
        for recording in unfinished:
            if recording.id in ours:
                continue
            bridge = self._bridge_of_session(recording.session_id)
            if bridge is None:
                self._finish_later(recording)
            else:
                file = self._dir / Path(recording.path).name
                self._sessions[bridge] = _Session(recording, file, on=True)

    def _bridge_of_session(self, session_id: str) -> str | None:
        for conference in self._live.conferences():
            if any(m.session == session_id for m in conference.members.values()):
                return conference.bridge
        return None
