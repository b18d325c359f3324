"""Lecture mode's rules (conference_ivr.conference.lecture) over the live model, with the AMI
actions recorded instead of sent: who is muted, who is muted again, the queue of raised hands,
the floor, and the state a restarted controller takes up again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.web.ports import NotInConference, NotRunning
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.lecture import Floor, LectureMode, decode, encode
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.members import Conference, Member
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import parse_conf_file
from conference_ivr.pbx.instance import TEMPLATE_DIR

pytestmark = pytest.mark.unit

BRIDGE = "conf-583920"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Asterisk:
    """Records the actions; Getvar answers what Setvar stored (as Asterisk's globals do)."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.globals: dict[str, str] = {}

    async def act(self, fields: dict[str, str]) -> list[dict[str, str]]:
        self.actions.append(fields)
        if fields["Action"] == "Setvar":
            self.globals[fields["Variable"]] = fields["Value"]
        if fields["Action"] == "Getvar":
            value = self.globals.get(fields["Variable"], "")
            return [{"Response": "Success", **({"Value": value} if value else {})}]
        return [{"Response": "Success"}]

    def mutes(self, action: str) -> list[str]:
        return [a["Channel"] for a in self.actions if a["Action"] == action]

    def told(self) -> list[str]:
        """Channels "pressed" the hidden lecture-muted keys, once per full sequence."""
        digits = [a for a in self.actions if a["Action"] == "PlayDTMF"]
        return [d["Channel"] for d in digits[:: len(names.LECTURE_MUTED_KEYS)]]


class Announcements:
    def __init__(self) -> None:
        self.played: list[list[str]] = []

    async def announce(self, bridge: str, sounds: list[str], kind: str) -> int:
        self.played.append(sounds)
        return 1


def join_event(uid: str, admin: bool = False, muted: bool = False, session: str = "s1") -> dict[str, str]:
    flags = {"Admin": "Yes" if admin else "No", "Muted": "Yes" if muted else "No"}
    return {"Event": "ConfbridgeJoin", "Conference": BRIDGE, "Channel": f"PJSIP/a-{uid}", "Uniqueid": uid,
            "BridgeUniqueid": session, **flags}  # fmt: skip


def unmute_event(uid: str) -> dict[str, str]:
    return {"Event": "ConfbridgeUnmute", "Conference": BRIDGE, "Channel": f"PJSIP/a-{uid}", "Uniqueid": uid,
            "Admin": "No"}  # fmt: skip


def parts() -> tuple[LiveConferences, LectureMode, Asterisk, Announcements]:
    asterisk, said = Asterisk(), Announcements()
    live = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics())
    return live, LectureMode(asterisk.act, live, said), asterisk, said


async def joined(live: LiveConferences, lecture: LectureMode, *uids: str, admin: bool = False) -> None:
    for uid in uids:
        event = parse_event(join_event(uid, admin))
        await live.on_event(event)
        await lecture.on_event(event)


async def test_lecture_mutes_participants_keeps_them_muted_and_mutes_who_joins() -> None:
    live, lecture, asterisk, said = parts()
    await joined(live, lecture, "mod", admin=True)
    await joined(live, lecture, "p1", "p2")
    await lecture.set_lecture(BRIDGE, True)
    assert asterisk.mutes("ConfbridgeMute") == ["participants"]  # ConfBridge spares its admins
    assert said.played == [["dialconf/lecture_on"]]

    # p1 presses their own unmute key: muted again at once, and told why
    await lecture.on_event(parse_event(unmute_event("p1")))
    assert asterisk.mutes("ConfbridgeMute")[-1] == "PJSIP/a-p1"
    assert asterisk.told() == ["PJSIP/a-p1"]

    await joined(live, lecture, "late")  # joins during the lecture: muted on joining
    assert asterisk.mutes("ConfbridgeMute")[-1] == "PJSIP/a-late"
    await joined(live, lecture, "mod2", admin=True)  # a moderator is not
    assert "PJSIP/a-mod2" not in asterisk.mutes("ConfbridgeMute")

    await lecture.set_lecture(BRIDGE, False)
    assert asterisk.mutes("ConfbridgeUnmute") == ["participants"]
    await lecture.on_event(parse_event(unmute_event("p2")))  # the unmute's own event: left alone
    assert asterisk.mutes("ConfbridgeMute")[-1] == "PJSIP/a-late"
    assert said.played[-1] == ["dialconf/lecture_off"]


async def test_hands_queue_in_order_and_the_floor_goes_to_one_at_a_time() -> None:
    live, lecture, asterisk, said = parts()
    await joined(live, lecture, "mod", admin=True)
    await joined(live, lecture, "p1", "p2", "p3")
    await lecture.set_lecture(BRIDGE, True)
    assert await lecture.next_floor(BRIDGE) == (Floor.NO_HANDS, None)
    assert await lecture.toggle_hand("p2") and await lecture.toggle_hand("p1")
    assert await lecture.toggle_hand("p3") and not await lecture.toggle_hand("p3")  # raised, lowered
    c = live.conference(BRIDGE)
    assert c is not None and [m.uniqueid for m in c.hands()] == ["p2", "p1"]

    done, first = await lecture.next_floor(BRIDGE)
    assert done is Floor.GIVEN and first is not None and first.uniqueid == "p2"
    assert asterisk.mutes("ConfbridgeUnmute") == ["PJSIP/a-p2"] and c.floor == "p2" and not first.hand
    await lecture.on_event(parse_event(unmute_event("p2")))  # the floor's unmute is not undone
    assert asterisk.mutes("ConfbridgeMute") == ["participants"]
    assert said.played[-1] == ["dialconf/floor_given"]  # no recorded name

    await lecture.give_floor(BRIDGE, "p1")  # from the page: p2 is muted again, p1 speaks
    assert asterisk.mutes("ConfbridgeMute")[-1] == "PJSIP/a-p2"
    assert asterisk.mutes("ConfbridgeUnmute")[-1] == "PJSIP/a-p1"
    done, back = await lecture.next_floor(BRIDGE)
    assert done is Floor.TAKEN_BACK and back is not None and back.uniqueid == "p1"
    assert asterisk.mutes("ConfbridgeMute")[-1] == "PJSIP/a-p1" and c.floor is None
    assert said.played[-1] == ["dialconf/floor_back"]

    with pytest.raises(NotInConference):
        await lecture.give_floor(BRIDGE, "nobody")
    with pytest.raises(NotRunning):
        await lecture.set_lecture("conf-111111", True)


async def test_the_floor_and_the_hand_go_with_who_leaves() -> None:
    live, lecture, _asterisk, _said = parts()
    await joined(live, lecture, "p1", "p2")
    await lecture.toggle_hand("p2")
    await lecture.give_floor(BRIDGE, "p1")
    for uid in ("p1", "p2"):
        leave = {**join_event(uid), "Event": "ConfbridgeLeave"}
        await live.on_event(parse_event(leave))
    await joined(live, lecture, "p3")
    c = live.conference(BRIDGE)
    assert c is not None and c.floor is None and c.hands() == []


async def test_a_restarted_controller_takes_up_the_state_asterisk_kept() -> None:
    live, lecture, asterisk, _said = parts()
    await joined(live, lecture, "mod", admin=True)
    await joined(live, lecture, "p1", "p2", "p3")
    await lecture.set_lecture(BRIDGE, True)
    await lecture.toggle_hand("p3")
    await lecture.toggle_hand("p2")
    await lecture.give_floor(BRIDGE, "p1")

    # a new controller over the same Asterisk: its model rebuilt without lecture state
    again = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics())
    restarted = LectureMode(asterisk.act, again, Announcements())
    for uid, admin, muted in (
        ("mod", True, False),
        ("p1", False, False),
        ("p2", False, True),
        ("p3", False, False),
    ):
        await again.on_event(parse_event(join_event(uid, admin, muted)))
    asterisk.actions.clear()
    await restarted.restore()
    c = again.conference(BRIDGE)
    assert c is not None and c.lecture and c.floor == "p1"
    assert [m.uniqueid for m in c.hands()] == ["p3", "p2"]
    # p3 unmuted while no controller watched: muted again; p1 has the floor, p2 is muted
    assert asterisk.mutes("ConfbridgeMute") == ["PJSIP/a-p3"]

    # an earlier session's state is not taken up by a new session of the same number
    fresh = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics())
    later = LectureMode(asterisk.act, fresh, Announcements())
    await fresh.on_event(parse_event(join_event("q1", session="s2")))
    await later.restore()
    c2 = fresh.conference(BRIDGE)
    assert c2 is not None and not c2.lecture

    # the conference ends: Asterisk forgets it
    await restarted.on_event(parse_event({"Event": "ConfbridgeEnd", "Conference": BRIDGE}))
    assert asterisk.globals[names.lecture_state_variable(BRIDGE)] == ""


def test_the_kept_state_round_trips_and_garbage_is_no_state() -> None:
    c = Conference(BRIDGE, lecture=True, floor="u1")
    for uid, order in (("u1", 1), ("u2", 2), ("u3", 3)):
        c.members[uid] = Member(uid, BRIDGE, f"PJSIP/{uid}", "", False, T0, order, session="s9")
    c.raise_hand(c.members["u3"])
    c.raise_hand(c.members["u2"])
    c.raise_hand(c.members["u3"])  # already raised: keeps its place
    saved = decode(encode(c))
    assert (saved.session, saved.lecture, saved.floor, saved.hands) == ("s9", True, "u1", ("u3", "u2"))
    for garbage in ("", "lecture", "x=1 y", "lecture=yes floor= hands=,,"):
        assert decode(garbage).empty
    assert c.silenced(c.members["u2"]) and not c.silenced(c.members["u1"])
    c.members["u2"].moderator = True
    assert not c.silenced(c.members["u2"])


def test_the_hidden_sequence_and_the_lecture_keys_are_bound_in_confbridge_conf() -> None:
    conf = parse_conf_file(TEMPLATE_DIR / "confbridge.conf")

    def bound(menu: str) -> dict[str, str]:
        return {k.replace("\\", ""): v for k, v in conf[menu].entries if k != "type"}

    participant, moderator = bound(names.MENU_PARTICIPANT), bound(names.MENU_MODERATOR)
    assert participant[names.LECTURE_MUTED_KEYS] == f"dialplan_exec({names.CONTEXT_MENU},lecturemuted,1)"
    assert participant["0"] == f"dialplan_exec({names.CONTEXT_MENU},hand,1)"
    for keys, action in (("#2", "lecture"), ("#3", "hands"), ("#4", "floor")):
        assert moderator[keys] == f"dialplan_exec({names.CONTEXT_MENU},{action},1)"
    assert names.lecture_state_variable(BRIDGE) == "DIALCONF_LECTURE_583920"
    with pytest.raises(ValueError):
        names.lecture_state_variable("room-1")
