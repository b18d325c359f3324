"""The month end through the real SMTP path: legs recorded by the usage service, a paid SMS
notice sent by the outbox, the month's run (by hand, resumed after a crash, repeated, and by
the messaging runtime's schedule), and the statements e-mailed through a real SMTP server
standing in for the relay, their PDF read back and their CSV checked."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader

from booking.adapters.mail import SmtpMailGateway
from booking.adapters.messaging_runtime import MessagingRuntime
from booking.domain.clock import FakeClock
from booking.domain.model import Reservation
from booking.domain.month_end import MonthEndRun
from booking.domain.statement import Statement
from booking.services.month_end import MonthEndService
from booking.store.migrate import upgrade
from conference_ivr.dialconf.services import Services, build_services
from conference_ivr.settings import Settings
from tests.support.messaging import RecordingGateway
from tests.support.poll import until
from tests.support.smtp import SmtpSink, body, smtp_sink
from tests.support.system import isolated_settings

MARCH_9 = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)
MARCH_10 = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
APRIL_2 = datetime(2027, 4, 2, 8, 0, tzinfo=UTC)  # March has ended, and the delay has passed
ADDRESSES = {"acme": "billing@acme.example", "beta": "money@beta.example"}  # "gamma" has none


@dataclass
class World:
    settings: Settings
    clock: FakeClock
    services: Services
    sms: RecordingGateway
    relay: SmtpSink
    rooms: dict[str, Reservation]

    def restart(self) -> None:
        """A new process on the same store (what survives is in the store)."""
        self.services.close()
        mail = SmtpMailGateway(self.settings.messaging.mail)
        self.services = build_services(self.settings, self.clock, sms=self.sms, mail=mail)

    def dispatch(self) -> int:
        dispatcher = self.services.messaging.dispatcher
        assert dispatcher is not None
        return dispatcher.send_due()

    def statements_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.relay.to(address) if "statement" in str(m["Subject"])]


def _calls(w: World, name: str, callers: list[tuple[str, int]]) -> None:
    r = w.rooms[name]
    usage = w.services.usage
    for n, (caller, seconds) in enumerate(callers):
        uid = f"{name}-{n}"
        joined = MARCH_10 + timedelta(minutes=n)
        usage.record_join(uid, r.room.conference_number, caller, n == 0, None, joined, f"{name}-s1", "8000")
        usage.record_leave(uid, at=joined + timedelta(seconds=seconds))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = isolated_settings(tmp_path, "monthend")
    settings.messaging.month_end.check_s = 0.05
    settings.messaging.dispatch_tick_s = 0.05
    upgrade(settings.database_url)
    clock = FakeClock(MARCH_9)
    sms = RecordingGateway()
    with smtp_sink(settings.messaging.mail.relay_port) as relay:
        services = build_services(settings, clock, sms=sms, mail=SmtpMailGateway(settings.messaging.mail))
        rooms = {
            name: services.booking.book(MARCH_10, 60, 5, profile=name) for name in ("acme", "beta", "gamma")
        }
        w = World(settings, clock, services, sms, relay, rooms)
        for name, address in ADDRESSES.items():
            services.billing.set_mail_settings(rooms[name].room.profile_id, address, reports=False)
        # acme lists a phone for notices: the SMS is a paid option (R21), sent in March.
        acme = rooms["acme"]
        services.messaging.set_invitees(acme.room.profile_id, acme.id, [("+420602000001", None)])
        w.dispatch()
        clock._now = MARCH_10 - timedelta(minutes=30)
        w.dispatch()  # and the reminder, an hour before the start (R26)
        assert [s.to for s in sms.sent] == ["+420602000001"] * 2
        clock._now = MARCH_10
        _calls(w, "acme", [("+420601234567", 61), ("+420261000111", 600)])
        _calls(w, "beta", [("+420261000222", 1800)])
        _calls(w, "gamma", [("+420261000333", 120)])
        clock._now = APRIL_2
        try:
            yield w
        finally:
            w.services.close()


def _attachments(msg: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in msg.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_month_end_mails_each_organizer_a_pdf_and_a_csv(world: World) -> None:
    run = world.services.month_end.run("2027-03")
    assert (run.revision, run.statements, run.mailed) == (1, 3, 2)  # gamma: built, no address
    assert world.dispatch() == 2

    [mail] = world.statements_to(ADDRESSES["acme"])
    assert mail["Subject"] == "Dialconf: your statement for 2027-03"
    acme: Statement = world.services.billing.statement(world.rooms["acme"].room.profile_id, "2027-03")
    assert len(acme.sms) == 2 and acme.sms_net == 2 * acme.sms[0].net > 0  # the paid SMS notices (R21)
    assert f"Total: {acme.gross:.2f} CZK" in body(mail) and "SMS notices (2)" in body(mail)
    files = _attachments(mail)
    assert set(files) == {"statement-2027-03.pdf", "statement-2027-03.csv"}
    text = _pdf_text(files["statement-2027-03.pdf"])
    assert "Organizer: acme" in text and f"{acme.gross:.2f}" in text and "+420602000001" in text
    assert world.rooms["acme"].room.conference_number in text
    csv = files["statement-2027-03.csv"].decode()
    assert f"{acme.gross:.2f},total:gross" in csv and ",sms," in csv and "'+420601234567" in csv

    [beta] = world.statements_to(ADDRESSES["beta"])
    beta_text = _pdf_text(_attachments(beta)["statement-2027-03.pdf"])
    assert "Organizer: beta" in beta_text and "SMS notices (0)" in beta_text


def test_a_crash_mid_run_resumes_without_mailing_anyone_twice(world: World) -> None:
    def crashes_at_beta(s: Statement, organizer: str) -> bytes:
        if organizer == "beta":
            raise RuntimeError("killed while rendering beta's PDF")
        return b"%PDF-1.4 acme"

    s = world.services
    crashing = MonthEndService(
        s.uow, world.clock, s.billing, world.settings.messaging.month_end, "Dialconf", crashes_at_beta
    )
    with pytest.raises(RuntimeError):
        crashing.run("2027-03")
    world.dispatch()
    assert len(world.statements_to(ADDRESSES["acme"])) == 1  # acme's step was done and committed
    assert world.statements_to(ADDRESSES["beta"]) == []
    run = world.services.month_end.last_run("2027-03")
    assert run is not None and run.finished_at is None  # the store remembers the run unfinished

    world.restart()  # a new process: the schedule finds the run unfinished and resumes it
    resumed = world.services.month_end.run_due()
    assert resumed is not None and resumed.finished_at is not None and resumed.revision == 1
    world.dispatch()
    assert len(world.statements_to(ADDRESSES["acme"])) == 1  # not twice
    assert len(world.statements_to(ADDRESSES["beta"])) == 1

    # Repeated: by hand and by the schedule, nothing more goes out.
    assert world.services.month_end.run("2027-03").revision == 1
    assert world.services.month_end.run_due() is None
    assert world.dispatch() == 0
    assert [len(world.statements_to(a)) for a in ADDRESSES.values()] == [1, 1]

    # A deliberate re-run sends every statement again, once.
    assert world.services.month_end.run("2027-03", again=True).revision == 2
    world.services.month_end.run("2027-03")
    world.dispatch()
    assert [len(world.statements_to(a)) for a in ADDRESSES.values()] == [2, 2]


def _count_looks(month_end: MonthEndService) -> list[int]:
    """Counts the schedule's looks at the clock (so a test waits for looks, not for time)."""
    looks = [0]
    run_due = month_end.run_due

    def counted() -> MonthEndRun | None:
        looks[0] += 1
        return run_due()

    month_end.run_due = counted  # type: ignore[method-assign]
    return looks


async def test_the_messaging_runtime_runs_the_month_end_on_its_schedule(world: World) -> None:
    world.clock._now = datetime(2027, 4, 1, 0, 30, tzinfo=UTC)  # March ended 2 h ago (Prague)
    looks = _count_looks(world.services.month_end)
    runtime = MessagingRuntime(world.services.messaging, month_end=world.services.month_end)
    await runtime.start()
    try:
        await until(lambda: looks[0] >= 3, 10, "the schedule looked at the clock")
        assert world.services.month_end.last_run("2027-03") is None  # not due before the delay
        world.clock._now = APRIL_2
        await asyncio.to_thread(world.relay.wait_for, lambda m: ADDRESSES["acme"] in str(m["To"]))
        await asyncio.to_thread(world.relay.wait_for, lambda m: ADDRESSES["beta"] in str(m["To"]))
    finally:
        await runtime.close()
    run = world.services.month_end.last_run("2027-03")
    assert run is not None and run.finished_at is not None

    world.restart()  # the next process's schedule finds March done
    looks = _count_looks(world.services.month_end)
    runtime = MessagingRuntime(world.services.messaging, month_end=world.services.month_end)
    await runtime.start()
    try:
        await until(lambda: looks[0] >= 3, 10, "the restarted schedule looked at the clock")
    finally:
        await runtime.close()
    assert world.dispatch() == 0
    assert [len(world.statements_to(a)) for a in ADDRESSES.values()] == [1, 1]
