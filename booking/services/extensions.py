"""``extend [number] [minutes]`` by SMS (R9 on request): the organizer gives their running
conference more time, as a moderator does with key 0.

The same rule as the keypad (booking.services.endings.EndDecisions.extend_running: the booked
end moves when the shared capacity has the seats until then), so the two never disagree. Only
the phone that booked the conference may extend it: an SMS sender's number is what the network
says it is, and the conference belongs to that sender's profile. The From of an e-mail is
whatever its writer typed, so an e-mail ``extend`` is answered, never carried out.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.compose import Composer
from booking.domain.keyword import ExtendOrder
from booking.domain.messages import Channel, Inbound, Outcome, Sender
from booking.domain.model import Reservation
from booking.domain.texts import Texts
from booking.services.booking import BookingService
from booking.services.endings import EndDecisions, running
from booking.services.replies import Recorder
from booking.settings import BookingSettings

log = structlog.get_logger(__name__)


class MessageExtensions:
    def __init__(
        self,
        booking: BookingService,
        endings: EndDecisions,
        clock: Clock,
        rules: BookingSettings,
        composer: Composer,
        recorder: Recorder,
        period: timedelta,
    ) -> None:
        self._booking = booking
        self._endings = endings
        self._clock = clock
        self._rules = rules
        self._compose = composer
        self._rec = recorder
        self._period = period  # without minutes: one period, as the keypad and R9 give

    def handle(self, msg: Inbound, sender: Sender, command: ExtendOrder, t: Texts) -> Outcome:
        if msg.channel is not Channel.SMS:
            return self._rec.answer(msg, t.language, Outcome.INVALID, t("extend.sms_only"))
        minutes = command.minutes or max(1, round(self._period.total_seconds() / 60))
        # One request adds at most a standard conference's length (R3): a typo of 6000 minutes
        # does not hold seats for days.
        limit = self._rules.on_demand_max_minutes
        if minutes > limit:
            return self._rec.answer(msg, t.language, Outcome.REFUSED, t("extend.too_long", limit=limit))
        target = self._target(msg, sender, command, t)
        if isinstance(target, Outcome):
            return target
        granted = self._endings.extend_running(target, timedelta(minutes=minutes))
        if granted is None:  # it ended meanwhile
            text = t("extend.unknown", conference=target.room.conference_number)
            return self._rec.answer(msg, t.language, Outcome.INVALID, text)
        current = self._booking.reservation(target.id) or target  # the end as it stands now
        values = {
            "conference": target.room.conference_number,
            "minutes": minutes,
            "end_time": "" if current.ends_at is None else t.time(self._compose.local(current.ends_at)),
        }
        log.info("sms.extend", reservation=target.id, minutes=minutes, granted=granted)
        outcome = Outcome.EXTENDED if granted else Outcome.REFUSED
        text = t("extend.extended" if granted else "extend.refused", **values)
        return self._rec.answer(msg, t.language, outcome, text, target.id)

    def _target(self, msg: Inbound, sender: Sender, command: ExtendOrder, t: Texts) -> Reservation | Outcome:
        """The sender's running conference the command names, or the outcome of saying there is none."""
        now = self._clock.now()
        mine = [
            r
            for r in self._booking.visible_reservations(sender.profile_id)
            if running(r, now, self._rules.join_lead)
        ]
        if command.conference_number is None:
            if len(mine) == 1:
                return mine[0]
            if not mine:
                return self._rec.answer(msg, t.language, Outcome.INVALID, t("extend.none"))
            numbers = ", ".join(r.room.conference_number for r in mine)
            return self._rec.answer(msg, t.language, Outcome.INVALID, t("extend.which", numbers=numbers))
        for r in mine:
            if r.room.conference_number == command.conference_number:
                return r
        text = t("extend.unknown", conference=command.conference_number)
        return self._rec.answer(msg, t.language, Outcome.INVALID, text)
