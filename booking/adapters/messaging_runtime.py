"""The running parts of messaging in one process: Kannel, the SMTP intake, the outbox loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from booking.adapters.kannel import KannelProcess
from booking.adapters.mail import MailIntake
from booking.domain.messages import Inbound
from booking.services.messaging import MessagingService
from booking.services.month_end import MonthEndService

log = structlog.get_logger(__name__)


def mail_handler(service: MessagingService) -> Callable[[Inbound], Awaitable[None]]:
    """The intake's handler: the desk writes to the store, so it runs in a worker thread."""

    async def handle(inbound: Inbound) -> None:
        await asyncio.to_thread(service.desk.handle, inbound)
        service.wake()

    return handle


class MessagingRuntime:
    def __init__(
        self,
        service: MessagingService,
        kannel: KannelProcess | None = None,
        kannel_dir: Path | None = None,
        mail: MailIntake | None = None,
        month_end: MonthEndService | None = None,
    ) -> None:
        self.service = service
        self._month_end = month_end  # the month-end schedule (R51), when this process runs it
        self._kannel = kannel
        self._kannel_dir = kannel_dir
        self._mail = mail
        self._stop = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._month_end_task: asyncio.Task[None] | None = None

    @property
    def kannel(self) -> KannelProcess | None:
        return self._kannel

    async def start(self) -> None:
        try:
            if self._kannel is not None:
                assert self._kannel_dir is not None
                await asyncio.to_thread(self._kannel.start, self._kannel_dir)
            if self._mail is not None:
                await self._mail.start()
            if self.service.dispatcher is not None:
                self._loop_task = asyncio.create_task(self.service.dispatcher.run(self._stop))
            if self._month_end is not None:
                self._month_end_task = asyncio.create_task(self._month_end.run_on_schedule(self._stop))
        except BaseException:
            await self.close()
            raise
        log.info(
            "messaging.started",
            sms=self._kannel is not None,
            mail=self._mail is not None,
            month_end=self._month_end is not None,
        )

    async def close(self) -> None:
        self._stop.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        if self._month_end_task is not None:
            await self._month_end_task
            self._month_end_task = None
        if self._mail is not None:
            await self._mail.close()
        if self._kannel is not None:
            await asyncio.to_thread(self._kannel.stop)
