"""The SMTP intake's answers on a real socket: 451 only when the store failed (a retry may
succeed), 550 when a retry would fail the same way, 250 once the desk recorded the order."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Callable

import pytest

from booking.adapters.mail import MailIntake
from booking.domain.messages import Inbound
from booking.settings import MailSettings
from booking.store.errors import StoreBusy
from tests.support.ports import free_ports

ORDER = b"From: Eva <eva@example.com>\r\nSubject: conference\r\n\r\nconf 0907 1400 60 10\r\n"


class Desk:
    def __init__(self) -> None:
        self.got: list[Inbound] = []
        self.fail: Callable[[], Exception] | None = None

    async def __call__(self, inbound: Inbound) -> None:
        if self.fail is not None:
            raise self.fail()
        self.got.append(inbound)


@pytest.fixture
async def intake() -> AsyncIterator[tuple[MailSettings, Desk]]:
    (port,) = free_ports(1)
    settings = MailSettings(intake_port=port)
    desk = Desk()
    server = MailIntake(settings, desk)
    await server.start()
    try:
        yield settings, desk
    finally:
        await server.close()


def _send(settings: MailSettings, raw: bytes) -> tuple[int, str]:
    try:
        with smtplib.SMTP(settings.bind_address, settings.intake_port, timeout=10) as smtp:
            smtp.sendmail("eva@example.com", [settings.booking_address], raw)
    except smtplib.SMTPDataError as e:
        assert isinstance(e.smtp_error, bytes)  # smtplib keeps the server's reply as it came
        return e.smtp_code, e.smtp_error.decode()
    return 250, "OK"


async def send(settings: MailSettings, raw: bytes) -> tuple[int, str]:
    return await asyncio.to_thread(_send, settings, raw)


async def test_an_order_is_taken_with_the_from_address_as_sender(intake: tuple[MailSettings, Desk]) -> None:
    settings, desk = intake
    assert await send(settings, ORDER.replace(b"\r\n\r\n", b"\r\nReply-To: x@evil.test\r\n\r\n")) == (
        250,
        "OK",
    )
    [inbound] = desk.got
    assert inbound.sender == "eva@example.com" and inbound.text == "conf 0907 1400 60 10"


async def test_a_store_failure_is_451_and_anything_else_550(intake: tuple[MailSettings, Desk]) -> None:
    settings, desk = intake
    desk.fail = lambda: StoreBusy("database is locked")
    code, text = await send(settings, ORDER)
    assert code == 451 and "try again later" in text
    desk.fail = lambda: OSError("disk full")
    assert (await send(settings, ORDER))[0] == 451
    desk.fail = lambda: ValueError("a bug that would fail on every retry")
    code, text = await send(settings, ORDER)
    assert code == 550 and "could not be handled" in text
    desk.fail = None
    assert await send(settings, ORDER) == (250, "OK")


async def test_a_bad_from_never_reaches_the_desk(intake: tuple[MailSettings, Desk]) -> None:
    settings, desk = intake
    code, text = await send(settings, ORDER.replace(b"Eva <eva@example.com>", b"eva"))
    assert code == 550 and text.startswith("5.1.7") and "no domain" in text
    assert desk.got == []
