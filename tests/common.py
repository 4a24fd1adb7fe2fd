"""Helpers shared by the Home Assistant tests: a panel to send frames, and what it sends.

Frames come from tests/g90/frames.py, the builders every test shares (packed
with `struct` from the protocol notes, not with the integration's code); the
vendor cloud for chaining is the listener tests' FakeCloud.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import socket
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from custom_components.g90_cloud.const import CONF_CONTROL_CHANNEL, DOMAIN, ControlChannel
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.panel_model import PanelModel

from .g90.aio.helpers import FakeCloud, like_the_vendor
from .g90.frames import (
    AlertSource,
    PeripheralType,
    activity,
    alarm,
    basic,
    json_notification,
    panel_state,
)
from .g90.samples import GUID

GUID_HEX = GUID.encode().hex(" ")
HOST = "127.0.0.1"
WAIT = 5.0
"""Upper bound for anything a test waits on."""
LISTEN_ONLY = {CONF_CONTROL_CHANNEL: ControlChannel.OFF.value}
"""Options of an entry that sends panels no commands: what it knows comes from their reports
alone (zones appear when they first report, the state is unknown until reported)."""

__all__ = [
    "GUID",
    "GUID_HEX",
    "HOST",
    "LISTEN_ONLY",
    "AlertSource",
    "FakeCloud",
    "PeripheralType",
    "activity",
    "alarm",
    "basic",
    "connected_panel",
    "entity_id",
    "like_the_vendor",
    "notification",
    "panel_device",
    "panel_state",
    "port_is_free",
    "send",
    "until",
    "wait_for",
    "zone_device",
]


def notification(data: Any) -> bytes:
    """A JSON notification of `data`, such as `[170, [1, [1]]]`, written as panels write it."""
    return json_notification(json.dumps(data, separators=(",", ":")))


async def send(hass: HomeAssistant, panel: SimulatedPanel, *frames: bytes) -> None:
    """Send frames, then a ping: its echo proves the listener handled everything before it."""
    for frame in frames:
        await panel.send("frame", frame)
    await panel.ping()
    await hass.async_block_till_done()
    assert panel.result.problems == []


@contextlib.asynccontextmanager
async def connected_panel(
    hass: HomeAssistant,
    port: int,
    *,
    guid: str = GUID,
    firmware: str = "207",
    model: PanelModel | None = None,
) -> AsyncIterator[SimulatedPanel]:
    """A simulated panel connected to the listener on `port`, past its hello.

    Home Assistant has read the panel's picture (state, info, sensors, relays,
    alert switches: the simulated panel answers from `model`, else the demo's)
    before the test goes on, unless its options turn commands off.
    """
    panel = SimulatedPanel(HOST, port, guid=guid, firmware=firmware, model=model)
    async with panel:
        await panel.hello()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert panel.result.problems == []
        yield panel
    # Let the listener notice the closed connection before the test goes on.
    await hass.async_block_till_done()


async def wait_for(hass: HomeAssistant, condition: Any) -> None:
    """Wait (bounded) until `condition()` is true; for what happens on another socket."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()


async def until(condition: Any) -> None:
    """Wait (bounded) until `condition()` is true, not for Home Assistant's jobs.

    For a condition met while a blocking service call is still running: wait_for
    would wait for the call too.
    """
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def port_is_free(port: int) -> bool:
    """Whether a server could listen on `port` now, as the listener binds (SO_REUSEADDR).

    Connections the listener closed linger in TIME_WAIT; they do not hold the port.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
            probe.listen()
        except OSError:
            return False
    return True


def panel_device(hass: HomeAssistant, entry_id: str, guid: str = GUID) -> dr.DeviceEntry:
    """The panel's device; fails when it does not exist."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, guid), entry_id)
    assert device is not None
    return device


def zone_device(
    hass: HomeAssistant, entry_id: str, index: int, guid: str = GUID
) -> dr.DeviceEntry | None:
    """A zone's device, if it exists."""
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{guid}_zone_{index}"), entry_id
    )


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id registered for a unique id; fails when there is none."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, f"no {platform} entity with unique id {unique_id}"
    return found
