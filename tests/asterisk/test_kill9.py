"""kill -9 the controller at random moments while calls come and go: no usage leg is lost
and none is doubled. The controller runs as its own process (`dialconf serve`)."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from booking.store.migrate import upgrade
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.dialconf.services import build_services
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.controller_process import ControllerProcess
from tests.support.events import EventLog, Predicate
from tests.support.poll import until
from tests.support.system import isolated_settings, running_asterisk

ROUNDS = 4


async def test_kill_9_at_random_moments_loses_and_doubles_no_leg(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("DIALCONF_KILL_SEED", "9")))
    settings = isolated_settings(tmp_path, name="kill")
    upgrade(settings.database_url)
    services = build_services(settings)
    booking, usage = services.booking, services.usage
    r = booking.book(services.clock.now(), 120, seats=20)
    async with running_asterisk(settings) as asterisk:
        a = settings.asterisk
        ami = AmiClient(a.ami_host, a.ami_port, a.ami_user, asterisk.instance.ami_secret())
        events = EventLog()
        ami.on_event(events.add)
        await ami.connect(wait_s=10)
        controller = ControllerProcess(settings)
        await controller.start()
        inside: list[LocalCaller] = []
        try:
            for n in range(ROUNDS):
                steady = LocalCaller(ami, events, "8000", f"+4202210{n}000")  # joins with the controller up
                await steady.join(r.room.conference_number, r.room.pin)
                await events.wait_for(_joined(steady))
                racing = LocalCaller(ami, events, "8000", f"+4202210{n}001")  # the kill lands on its way
                callers = [steady, racing]
                joining = asyncio.create_task(racing.join(r.room.conference_number, r.room.pin))
                # not a wait: the kill lands at a random moment (mid-IVR, mid-join, in)
                await asyncio.sleep(rng.uniform(0.2, 12.0))
                await controller.kill()
                await asyncio.gather(joining, return_exceptions=True)  # it may never get in
                await controller.start()
                inside += [c for c in callers if events.matching(_joined(c))]
                # hang up some of those inside while a controller runs
                for c in rng.sample(inside, k=len(inside) // 2):
                    await c.hangup()
                    await events.wait_for(_left(c))
                    inside.remove(c)
            for c in inside:
                await c.hangup()
                await events.wait_for(_left(c))
            joined = {
                e.get("Uniqueid")
                for e in events.matching(lambda e: isinstance(e, ConfbridgeJoin))
                if not names.is_announcer_channel(e.get("Channel"))
            }
            assert len(joined) >= 2, "the test never got anyone in: it proves nothing"

            def recorded() -> bool:  # the controller writes asynchronously
                legs = usage.history(r.room.profile_id, r.id)
                return {leg.uniqueid for leg in legs} >= joined and all(leg.left_at for leg in legs)

            await until(recorded, 10, "every leg recorded and closed", blocking=True)
            legs = usage.history(r.room.profile_id, r.id)
        finally:
            await controller.stop()
            await ami.close()
    ids = [leg.uniqueid for leg in legs]
    assert len(ids) == len(set(ids))  # none doubled
    assert set(ids) == joined  # none lost, none invented
    assert all(leg.left_at is not None for leg in legs), [leg for leg in legs if leg.left_at is None]


def _joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def _left(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == c.uniqueid
