"""Usage legs from real calls; a restarted controller reconciles what it missed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from booking.domain.usage import Leg
from booking.services.usage import UsageService
from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.dialconf.compose_controller import build_controller
from conference_ivr.settings import ControllerSettings
from tests.support.poll import until
from tests.support.system import System


def usage_of(system: System) -> UsageService:
    return system.services.usage


async def test_a_call_leaves_one_closed_leg_with_its_details(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    mobile = system.caller(caller_id="+420602555001", voice="300/100,0/400")
    await mobile.join(r.room.conference_number, r.room.admin_pin, say_name_s=1.0)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == mobile.uniqueid)
    await mobile.hangup()
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == mobile.uniqueid)
    assert system.controller.recorder is not None
    await system.controller.recorder.drained()
    (leg,) = usage_of(system).history(r.room.profile_id, r.id or 0)
    assert leg.uniqueid == mobile.uniqueid and leg.caller_number == "+420602555001"
    assert leg.mobile and leg.role == "moderator" and leg.name_file and mobile.uniqueid in leg.name_file
    assert leg.left_at is not None and leg.end_reason == "left"
    assert leg.session_id  # the ConfBridge's bridge id: one per session


async def test_a_new_controller_closes_legs_that_ended_while_it_was_down(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    usage = usage_of(system)
    staying = system.caller()
    await staying.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == staying.uniqueid)
    # a leg the store thinks is open, whose call is long gone (its leave was never written)
    usage.record_join("ghost-1", r.room.conference_number, "+420221999999", moderator=False)

    settings = system.settings.model_copy(
        update={"controller": ControllerSettings(agi_port=0, metrics_port=0)}
    )
    services = dataclasses.replace(system.services, settings=settings)
    second = build_controller(services, system.asterisk.instance.ami_secret())
    await second.start()

    def ghost_closed() -> Leg | None:
        ghost = usage.leg("ghost-1")
        return ghost if ghost is not None and ghost.left_at is not None else None

    try:
        ghost = await until(ghost_closed, 10, "the ghost leg closed", blocking=True)
    finally:
        await second.close()
    assert ghost.end_reason == "ended_while_controller_down"
    legs = [leg for leg in usage.history(r.room.profile_id, r.id or 0) if leg.uniqueid == staying.uniqueid]
    assert len(legs) == 1 and legs[0].left_at is None  # the live call: one open leg, not doubled
    await staying.hangup()
