"""The month-end run (R51): rate the finished month, build each organizer's statement, and
e-mail it with its PDF and CSV, durably.

The run of a month is a row in the store; each organizer's step is one transaction that
writes its progress, its outbox e-mail and the e-mail's attachments together. A run that
crashed part way is resumed by the next (the scheduler's or ``dialconf month-end``): it skips
the organizers already done, and the outbox takes each e-mail's key once, so nobody is mailed
twice. A deliberate re-run (``again``) is a new revision: statements are built and sent anew.
The dispatcher sends the e-mails, as every other outbox message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.messages import Attachment, Channel, Kind, MessageDraft
from booking.domain.month_end import MonthEndRun, OrganizerProgress, due_month, statement_key, statement_mail
from booking.domain.statement import Statement
from booking.domain.texts import Texts
from booking.services.billing import BillingService, month_bounds
from booking.services.ports import UnitOfWork
from booking.settings import MonthEndSettings

log = structlog.get_logger(__name__)

RenderPdf = Callable[[Statement, str], bytes]  # (statement, organizer's name) -> the PDF


class MonthEndService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        billing: BillingService,
        settings: MonthEndSettings,
        service_name: str,
        render_pdf: RenderPdf,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._billing = billing
        self._s = settings
        self._service = service_name
        self._pdf = render_pdf
        self._wake = wake  # the dispatcher: the e-mails should not wait for its next tick

    def due(self) -> str:
        """The month the clock says is due for billing now."""
        return due_month(self._clock.now(), self._billing.tz, timedelta(hours=self._s.delay_hours))

    def last_run(self, month: str) -> MonthEndRun | None:
        month_bounds(month, self._billing.tz)
        with self._uow(read_only=True) as tx:
            return tx.statements.run(month)

    def run_due(self) -> MonthEndRun | None:
        """Run (or resume) the due month unless its run finished; None when nothing was due."""
        month = self.due()
        found = self.last_run(month)
        if found is not None and found.finished_at is not None:
            return None
        return self.run(month)

    def run(self, month: str, again: bool = False) -> MonthEndRun:
        """Run ``month`` (resuming a run that did not finish). A finished run is left as it is
        unless ``again``: then every statement is rebuilt and sent again (a new revision)."""
        month_bounds(month, self._billing.tz)
        now = self._clock.now()
        with self._uow() as tx:
            run = tx.statements.run(month)
            if run is None:
                run = MonthEndRun(month, 1, now)
            elif again:
                run = MonthEndRun(month, run.revision + 1, now)
            elif run.finished_at is not None:
                return run
            tx.statements.put_run(run)
        log.info("month_end.started", month=month, revision=run.revision)
        self._billing.rate_month(month)
        since, until = month_bounds(month, self._billing.tz)
        with self._uow(read_only=True) as tx:
            organizers = tx.statements.billed_profiles(month, since, until)
        for profile_id in organizers:
            if self._organizer(run, profile_id):
                self._wake()
        with self._uow() as tx:
            done = [p for p in tx.statements.progress_of(month) if p.revision == run.revision]
            run = replace(
                run,
                finished_at=self._clock.now(),
                statements=len(done),
                mailed=sum(p.recipient is not None for p in done),
            )
            tx.statements.put_run(run)
        log.info("month_end.finished", month=month, statements=run.statements, mailed=run.mailed)
        return run

    def _organizer(self, run: MonthEndRun, profile_id: int) -> bool:
        """Build and queue one organizer's statement unless this revision did; True if queued."""
        with self._uow(read_only=True) as tx:
            done = tx.statements.progress(run.month, profile_id)
            mail = tx.statements.profile_mail(profile_id)
        if (done is not None and done.revision >= run.revision) or mail is None:
            return False
        s, csv = self._billing.statement_and_csv(profile_id, run.month, rate=False)
        pdf = self._pdf(s, mail.name)
        now = self._clock.now()
        progress = OrganizerProgress(run.month, profile_id, run.revision, now, s.net, s.gross, mail.address)
        with self._uow() as tx:
            queued = False
            if mail.address is not None:
                key = statement_key(run.month, profile_id, run.revision)
                subject, body = statement_mail(s, self._service, Texts(mail.language))
                draft = MessageDraft(key, Channel.EMAIL, mail.address, mail.language, Kind.STATEMENT, now)
                queued = tx.messages.enqueue(replace(draft, subject=subject, body=body), now)
                if queued:
                    tx.attachments.add(
                        key,
                        [
                            Attachment(f"statement-{run.month}.pdf", "application/pdf", pdf),
                            Attachment(f"statement-{run.month}.csv", "text/csv", csv.encode("utf-8")),
                        ],
                    )
            tx.statements.put_progress(progress)
        log.info("month_end.statement", month=run.month, profile_id=profile_id, queued=queued)
        return queued

    # --- the scheduler --------------------------------------------------------------------

    async def run_on_schedule(self, stop: asyncio.Event) -> None:
        """Every ``check_s`` (real seconds), run the due month if it has not run: the clock
        decides what is due, so a restart or a stopped service catches up on its next look."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_due)
            except Exception:  # a store hiccup or a bad statement must not end the schedule
                log.exception("month_end.failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._s.check_s)
