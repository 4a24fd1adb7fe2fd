"""Commands to one panel, one at a time: a person's command goes before background reads."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.g90_cloud.control import CommandPreempted
from custom_components.g90_cloud.g90.commands import ArmState, get_host_status, set_host_status
from custom_components.g90_cloud.g90.panel_model import Quirk

from .common import GUID, connected_panel, until


async def test_a_person_whose_wait_is_cancelled_does_not_make_reads_spin(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """The person's command preempts a read, and its caller gives up at that very moment
    (an automation restarted, Home Assistant stopping): the read made again must wait its
    turn once, not be given up again and again without the event loop ever running."""
    commands = init_integration.runtime_data.commands
    async with connected_panel(hass, port) as panel:
        panel.model.quirks.extend(Quirk(silent=True) for _ in range(3))
        preempted = 0

        async def read_until_not_preempted() -> None:  # as the refresh does
            nonlocal preempted
            while preempted < 1000:
                try:
                    await commands.run(GUID, get_host_status(), timeout=5)
                    return
                except CommandPreempted:
                    preempted += 1

        reader = asyncio.create_task(read_until_not_preempted())
        await until(lambda: GUID in commands._background)  # the read is under way
        work = commands._background[GUID]
        person = asyncio.create_task(
            commands.run(GUID, set_host_status(ArmState.ARMED_AWAY), timeout=5, asked=True)
        )
        work.add_done_callback(lambda _: person.cancel())
        await asyncio.sleep(0.1)
        reader.cancel()
        await asyncio.gather(reader, person, return_exceptions=True)
        assert preempted == 1
        assert not commands._asked  # nobody is counted as waiting any more
