"""The one-time code that proves an e-mail order or cancel came from its From address.

Anyone can write any From. So an order or a cancel by e-mail is not carried out when it comes
in: it is kept with a random code, and the code is mailed to the From address. Only the owner
of that address reads it; when a message from the same address brings the code back, the
kept command is carried out. A forger gets nothing: the request (and every other reply) goes
to the address they forged. Guessing is bounded: each wrong code counts against every waiting
request of the address (void after ``max_wrong_codes``), and after ``wrong_codes_per_day``
wrong codes in 24 hours the address's codes are not even checked (docs/security/email-and-sms.md
has the arithmetic). Only a salted SHA-256 of a code is stored, and no code is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

import structlog

from booking.domain.clock import Clock
from booking.domain.confirmation import Confirmation, ConfirmationDraft
from booking.domain.messages import Inbound, Outcome, Sender
from booking.domain.texts import Texts
from booking.services.ports import UnitOfWork
from booking.services.replies import Recorder
from booking.settings import ConfirmSettings

log = structlog.get_logger(__name__)
DAY = timedelta(days=1)


def digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


class ConfirmationCodes:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, settings: ConfirmSettings, recorder: Recorder, tz: ZoneInfo
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._rec = recorder
        self._tz = tz

    @property
    def hours(self) -> int:
        return max(1, round(self._s.valid_minutes / 60))

    def ask(self, msg: Inbound, command: str, t: Texts, key: str, **values: object) -> Outcome:
        """Keep ``command`` for the From address and mail it a code; the reply text is ``key``."""
        now = self._clock.now()
        code = f"{secrets.randbelow(10**self._s.code_digits):0{self._s.code_digits}d}"
        salt = secrets.token_hex(16)
        expires = now + timedelta(minutes=self._s.valid_minutes)
        local = expires.astimezone(self._tz)
        until = f"{t.date(local)} {t.time(local)}"
        with self._uow() as tx:
            store = tx.confirmations
            waiting = store.waiting(msg.channel, msg.sender, now)
            if len(waiting) >= self._s.max_waiting:
                text = t("reply.confirm_too_many", count=len(waiting), hours=self.hours)
                self._rec.record(tx, msg, t.language, Outcome.REFUSED, text)
                return Outcome.REFUSED
            store.add(
                ConfirmationDraft(
                    msg.channel,
                    msg.sender,
                    command,
                    t.language,
                    salt,
                    digest(salt, code),
                    msg.external_id,
                    now,
                    expires,
                )
            )
            text = t(key, code=code, until=until, **values)
            subject = t("reply.confirm_subject", code=code)
            self._rec.record(tx, msg, t.language, Outcome.AWAITING_CONFIRMATION, text, subject=subject)
        log.info("confirmation.requested", channel=msg.channel.value)
        return Outcome.AWAITING_CONFIRMATION

    def check(self, msg: Inbound, sender: Sender, code: str) -> Confirmation | Outcome:
        """The waiting request of this address that ``code`` opens, or the outcome of refusing
        the code (recorded, the reply queued). The request is used up by whoever carries it out."""
        now = self._clock.now()
        with self._uow() as tx:
            store = tx.confirmations
            # Answered in the language of the request it would confirm (the sender's own is
            # learnt only from what it confirmed).
            t = Texts(store.last_language(msg.channel, msg.sender) or sender.language)
            wrong_today = tx.messages.count_inbound(msg.channel, msg.sender, now - DAY, [Outcome.WRONG_CODE])
            if wrong_today >= self._s.wrong_codes_per_day:
                # Silence: whoever guesses learns nothing, and a forged From is not mailed again.
                self._rec.record(tx, msg, t.language, Outcome.IGNORED, None)
                log.warning("confirmation.guessing_stopped", channel=msg.channel.value)
                return Outcome.IGNORED
            waiting = store.waiting(msg.channel, msg.sender, now)
            for c in waiting:
                if hmac.compare_digest(c.code_hash, digest(c.code_salt, code)):
                    return c
            if not waiting:
                text = t("reply.confirm_none", hours=self.hours)
            elif store.wrong_code(msg.channel, msg.sender, now, self._s.max_wrong_codes):
                text = t("reply.confirm_wrong")
            else:
                text = t("reply.confirm_void")
            self._rec.record(tx, msg, t.language, Outcome.WRONG_CODE, text)
        log.info("confirmation.wrong_code", channel=msg.channel.value, waiting=len(waiting))
        return Outcome.WRONG_CODE
