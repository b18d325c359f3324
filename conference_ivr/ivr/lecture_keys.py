"""The keypad's side of lecture mode (conference_ivr.conference.lecture): what each key does
and what the one who pressed it hears.

A participant's 0 raises or lowers their hand; the moderator's #2 turns lecture mode on or
off, #3 says the raised hands (names where recorded, else their place in the queue), #4 gives
the floor to the first raised hand or takes it back. ``lecturemuted`` is the controller's own
hidden sequence: a participant lecture mode muted again hears why.
"""

from __future__ import annotations

import structlog

from booking.web.ports import LiveError
from conference_ivr.conference.lecture import Floor, LectureMode
from conference_ivr.conference.live import LiveConferences
from conference_ivr.ivr.speaker import Speaker

log = structlog.get_logger(__name__)

PARTICIPANT_ACTIONS = frozenset({"hand", "lecturemuted"})
MODERATOR_ACTIONS = frozenset({"lecture", "hands", "floor"})
ACTIONS = PARTICIPANT_ACTIONS | MODERATOR_ACTIONS


class LectureKeys:
    def __init__(self, lecture: LectureMode, live: LiveConferences) -> None:
        self._lecture = lecture
        self._live = live

    async def __call__(self, action: str, speaker: Speaker, bridge: str, uniqueid: str) -> None:
        """``action`` for the member ``uniqueid`` of ``bridge`` (the menu checked their role)."""
        try:
            if action == "hand":
                raised = await self._lecture.toggle_hand(uniqueid)
                await speaker.say("hand_raised" if raised else "hand_lowered")
            elif action == "lecturemuted":
                await speaker.say("lecture_muted")
            elif action == "lecture":
                # the others hear it played into the conference; the moderator, outside the
                # bridge while the menu runs, hears it here
                on = await self._lecture.toggle_lecture(bridge)
                await speaker.say("lecture_on" if on else "lecture_off")
            elif action == "hands":
                await self._say_hands(speaker, bridge)
            elif action == "floor":
                done, member = await self._lecture.next_floor(bridge)
                if done is Floor.GIVEN and member is not None and member.name_file is not None:
                    await speaker.agi.stream_file(str(member.name_file))
                    await speaker.say("has_floor")
                else:
                    phrase = {Floor.GIVEN: "floor_given", Floor.TAKEN_BACK: "floor_back"}
                    await speaker.say(phrase.get(done, "no_hands"))
        except LiveError as refused:  # left, or the conference ended, meanwhile
            log.info("menu.lecture_refused", action=action, why=type(refused).__name__)
            await speaker.say("error_menu")

    async def _say_hands(self, speaker: Speaker, bridge: str) -> None:
        c = self._live.conference(bridge)
        hands = c.hands() if c is not None else []
        if not hands:
            await speaker.say("no_hands")
            return
        await speaker.say_with_number("hands", len(hands))
        for place, m in enumerate(hands, 1):
            if m.name_file is not None:
                await speaker.agi.stream_file(str(m.name_file))
            else:
                await speaker.say_with_number("hand_number", place)
