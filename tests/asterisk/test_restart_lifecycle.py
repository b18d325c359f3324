"""kill -9 the controller at defined moments of a conference's booked end (R9) and of a mobile
caller's cap (R10), start it again, and get what a run without the kill gets (the spec, as
test_lifecycle.py and test_mobile_cap.py assert it): one warning tone at end - lead, the goodbye
and the close at the end, an extension kept, a mobile caller cut after their own join.

The controller is its own process (`dialconf serve`) on one real Asterisk; it and this test
read one compressed clock (tests/support/restart_bed.py), a clock minute in two real seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest

from booking.domain.model import Reservation
from booking.domain.usage import Leg
from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave, Hangup
from conference_ivr.errors import AmiError
from conference_ivr.ivr.sounds import WARNING_TONE_HZ
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.restart_bed import Bed, ended, of, play, restart_bed
from tests.support.tone import tone_windows

SPEED = 30.0  # clock seconds per real second
LEAD = timedelta(minutes=4)  # warning_lead_minutes
EXTENSION = timedelta(minutes=6)  # extension_minutes
# 10 minutes, not test_mobile_cap's 8: the controller is down for two clock minutes after the
# join and needs one to come back, and must still be up well before the warning at 6.
CAP = timedelta(minutes=10)  # mobile_cap_minutes
CAP_WARNING = timedelta(minutes=4)  # mobile_warning_minutes
# How late the test may see a decision taken on time: a tick (3 clock s), the AMI round trips
# and a busy machine (2 cores)...
SLACK = timedelta(minutes=1)
# ...and, for what is played into a conference, the play context's Wait(1) before its
# DialconfPlay event (asterisk/extensions.conf, dialconf-play): half a clock minute here.
PLAY_WAIT = timedelta(seconds=SPEED)
EARLY = timedelta(seconds=30)  # the controller may take a join's time before the test sees it


@pytest.fixture(scope="module")
async def bed_once(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bed]:
    async with restart_bed(
        tmp_path_factory.mktemp("restart"),
        SPEED,
        start=False,  # each case starts its own (the fixture below)
        warning_lead_minutes=LEAD.total_seconds() / 60,
        extension_minutes=EXTENSION.total_seconds() / 60,
        lifecycle_tick_s=0.1,
        mobile_cap_minutes=CAP.total_seconds() / 60,
        mobile_warning_minutes=CAP_WARNING.total_seconds() / 60,
    ) as bed:
        yield bed


@pytest.fixture
async def bed(bed_once: Bed) -> AsyncIterator[Bed]:
    """Each case starts with a controller that knows nothing of the cases before: one stuck
    in a goodbye a failed case left (its tick waits up to 20 s) would spoil the next case."""
    if bed_once.controller.proc is not None:
        await bed_once.controller.kill()
    await bed_once.controller.start()
    yield bed_once
    with contextlib.suppress(AmiError):  # whoever a failed case left in
        await bed_once.ami.action({"Action": "Hangup", "Channel": "/^Local\\//"})


@contextlib.contextmanager
def seats_taken_after(bed: Bed, conf: Reservation) -> Iterator[None]:
    """Another booking takes every seat from ``conf``'s end: no extension, a warning instead."""
    assert conf.ends_at is not None
    blocker = bed.services.booking.book(conf.ends_at, 30, seats=10)
    try:
        yield
    finally:
        assert blocker.id is not None
        bed.services.booking.cancel(blocker.id)  # the seats back for the next case


def running(bed: Bed, ends_in_minutes: int) -> tuple[Reservation, datetime, str]:
    """A 5-seat conference that started 10 minutes ago: it, its end and its bridge."""
    conf = bed.book(-timedelta(minutes=10), 10 + ends_in_minutes, seats=5)
    assert conf.ends_at is not None
    return conf, conf.ends_at, names.bridge_name(conf.room.conference_number)


async def warned_on_time(bed: Bed, bridge: str, end: datetime) -> None:
    at = await bed.seen(play(bridge, "warning_tone"), bed.real_until(end) + 5, "the warning tone")
    assert end - LEAD <= at <= end - LEAD + PLAY_WAIT + SLACK, f"warned at {at}, due at {end - LEAD}"


async def closed_after_the_goodbye(bed: Bed, bridge: str, end: datetime, within: float) -> None:
    """The goodbye is said into the conference (within ``within`` real seconds), then every
    member is let go and the conference ends."""
    said = await bed.seen(play(bridge, "conference_over"), within, "the goodbye")
    assert end <= said, f"goodbye at {said}, before the end at {end}"
    await bed.seen(ended(bridge), 25, "the conference closed")
    assert bed.index(play(bridge, "conference_over")) < bed.index(ended(bridge))


async def closed_at_the_end(bed: Bed, bridge: str, end: datetime) -> None:
    await closed_after_the_goodbye(bed, bridge, end, bed.real_until(end) + 10)
    said = await bed.seen(play(bridge, "conference_over"), 1, "the goodbye")  # when it came
    assert said <= end + PLAY_WAIT + SLACK, f"goodbye at {said}, due at {end}"


def warnings(bed: Bed, bridge: str) -> int:
    return bed.count(play(bridge, "warning_tone"))


async def test_a_kill_before_the_warning_still_warns_once_and_closes_at_the_end(bed: Bed) -> None:
    conf, end, bridge = running(bed, 14)  # 28 s: two joins (~10 s) and a restart (~2 s) first
    records = [bed.asterisk.instance.inner("spool", f"restart-a-{i}") for i in range(2)]
    members = [bed.caller(f"+42022170000{i}", record=str(r)) for i, r in enumerate(records)]
    with seats_taken_after(bed, conf):
        await bed.join(conf, *members)
        await bed.kill_and_restart(up_before=end - LEAD)
        await warned_on_time(bed, bridge, end)
        await closed_at_the_end(bed, bridge, end)
        assert warnings(bed, bridge) == 1
    for m, inner in zip(members, records, strict=True):  # every member heard the beeps
        await bed.seen(of(Hangup, m), 15, f"{m.caller_id} hung up")
        assert await heard_tone(bed, inner), f"no warning tone in what {m.caller_id} heard"


async def test_b_kill_after_the_warning_does_not_warn_again(bed: Bed) -> None:
    conf, end, bridge = running(bed, 12)
    with seats_taken_after(bed, conf):
        await bed.join(conf, bed.caller("+420221700010"))
        await warned_on_time(bed, bridge, end)
        await bed.kill_and_restart(up_before=end - SLACK)
        await closed_at_the_end(bed, bridge, end)
        assert warnings(bed, bridge) == 1, "the warning tone was played again after the restart"


async def test_c_restart_after_the_booked_end_closes_at_once(bed: Bed) -> None:
    conf, end, bridge = running(bed, 12)
    with seats_taken_after(bed, conf):
        member = bed.caller("+420221700020")
        await bed.join(conf, member)
        await warned_on_time(bed, bridge, end)
        # down over the end: nobody lets the members go, they are still in when it comes back
        await bed.kill_and_restart(restart_at=end + EARLY)
        assert member.uniqueid in await bed.members_in(bridge)
        # at once: a tick, the play's Wait(1), a busy machine
        await closed_after_the_goodbye(bed, bridge, end, within=5)
        assert warnings(bed, bridge) == 1, "the warning tone was played again after the restart"


async def test_d_an_extension_is_kept_across_a_kill(bed: Bed) -> None:
    conf, end, bridge = running(bed, 10)  # nobody needs its seats after it: extended
    number, dialin = conf.room.conference_number, bed.services.dialin
    member = bed.caller("+420221700030")
    await bed.join(conf, member)

    def extended() -> Reservation | None:
        r = dialin.current_reservation(number)
        return r if r is not None and r.ends_at == end + EXTENSION else None

    await until(extended, bed.real_until(end - LEAD) + 5, "the extension at end - lead", blocking=True)
    await bed.kill_and_restart(up_before=end)
    await bed.until_clock(end + SLACK)  # past the booked end...
    assert member.uniqueid in await bed.members_in(bridge)  # ...still in
    assert not bed.count(of(ConfbridgeLeave, member))
    now = await asyncio.to_thread(dialin.current_reservation, number)
    assert now is not None and now.ends_at == end + EXTENSION
    assert warnings(bed, bridge) == 0
    await member.hangup()
    await bed.seen(ended(bridge), 15, "the session over with its last member")


async def test_e_a_mobile_caller_is_cut_after_their_own_join_across_a_kill(bed: Bed) -> None:
    conf = bed.book(-timedelta(minutes=1), 120, seats=5)
    landline, mobile = bed.caller("+420221700040"), bed.caller("+420602700040")
    await bed.join(conf, landline, mobile)
    joined = await bed.seen(of(ConfbridgeJoin, mobile), 1, "the mobile caller in")  # when it came
    usage = bed.services.usage
    # killed once the controller has surely taken the join in (its usage leg written) ...
    await until(lambda: usage.leg(mobile.uniqueid), 10, "the mobile leg opened", blocking=True)
    await bed.until_clock(joined + EARLY)
    # ... and down for a while, so "since the restart" and "since the join" differ by minutes
    due = joined + CAP - CAP_WARNING
    await bed.kill_and_restart(up_before=due - SLACK, restart_at=joined + 2 * SLACK)

    def warning_to(c: LocalCaller) -> Predicate:  # whispered to that caller's channel alone
        return lambda e: (
            e.get("UserEvent") == names.USER_EVENT_PLAY
            and "dialconf/mobile_warning" in e.get("Sound")
            and e.get("Targets") == c.channel2
        )

    by_cap = bed.real_until(joined + CAP) + 10
    warned = await bed.seen(warning_to(mobile), by_cap, "the mobile warning")
    assert due - EARLY <= warned <= due + SLACK + PLAY_WAIT, f"warned {warned - joined} after the join"
    cut = await bed.seen(of(ConfbridgeLeave, mobile), by_cap, "the mobile caller cut")
    assert joined + CAP - EARLY <= cut <= joined + CAP + SLACK, f"cut {cut - joined} after the join"
    assert bed.count(warning_to(mobile)) == 1
    assert not bed.count(warning_to(landline))
    assert landline.uniqueid in await bed.members_in(names.bridge_name(conf.room.conference_number))

    def closed_leg() -> Leg | None:  # the controller writes it when it hears the Leave
        leg = usage.leg(mobile.uniqueid)
        return leg if leg is not None and leg.left_at is not None else None

    leg = await until(closed_leg, 10, "the mobile leg closed", blocking=True)
    assert leg.mobile and leg.end_reason == "mobile_cap"
    await landline.hangup()


async def heard_tone(bed: Bed, record: PurePosixPath) -> list[float]:
    """The warning tone's windows in what a member heard. MixMonitor completes the file (its
    header's sizes) when it closes it, just after the hangup: read until they are there."""
    heard = Path(bed.asterisk.instance.install.host_path(record.with_name(record.name + "-heard.wav")))

    def beeps() -> list[float] | None:
        try:
            found = tone_windows(heard, WARNING_TONE_HZ)
        except (FileNotFoundError, EOFError, wave.Error):
            return None
        return found if len(found) >= 6 else None  # 3 x 0.25 s

    return await until(beeps, 10, f"{WARNING_TONE_HZ} Hz beeps in {heard}")
