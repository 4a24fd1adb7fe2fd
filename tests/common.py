"""Helpers shared by the Home Assistant tests: frames a panel sends, and a panel to send them.

Frames are built with the integration's own message classes, so what reaches
the listener is byte for byte what a real panel puts on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import socket
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from custom_components.g90_cloud.const import DOMAIN
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.events import AlertKind, AlertSource, PeripheralType
from custom_components.g90_cloud.g90.messages import Notification, StatusChange
from custom_components.g90_cloud.g90.scenarios import PANEL_STATE
from custom_components.g90_cloud.g90.session import Session

GUID = "GA00000A0000000"
GUID_HEX = GUID.encode().hex(" ")
HOST = "127.0.0.1"
WAIT = 5.0
"""Upper bound for anything a test waits on."""

__all__ = [
    "GUID",
    "GUID_HEX",
    "HOST",
    "AlertSource",
    "FakeCloud",
    "PeripheralType",
    "activity",
    "alarm",
    "connected_panel",
    "entity_id",
    "notification",
    "panel_device",
    "panel_state",
    "port_is_free",
    "send",
    "wait_for",
    "zone_device",
]


def panel_state(state: str, when: int | None = None) -> bytes:
    """Kind 2 status change: disarmed, armed_away, ac_power_failure, wifi_connected..."""
    return StatusChange.panel_state(PANEL_STATE[state], when or int(time.time())).encode()


def activity(zone: int, name: str, source: int, state: int, when: int | None = None) -> bytes:
    """Kind 4 status change: a zone's sensor, remote, keypad or doorbell did something."""
    return StatusChange.zone(
        AlertKind.SENSOR_ACTIVITY,
        zone=zone,
        type_or_source=source,
        state=state,
        name=name,
        timestamp=when or int(time.time()),
    ).encode()


def alarm(zone: int, name: str, peripheral_type: int, state: int = 1) -> bytes:
    """Kind 3 status change: an alarm raised by a zone (state 3: its tamper switch)."""
    return StatusChange.zone(
        AlertKind.ALARM,
        zone=zone,
        type_or_source=peripheral_type,
        state=state,
        name=name,
        timestamp=int(time.time()),
    ).encode()


def notification(data: Any) -> bytes:
    """A JSON notification such as `[170, [1, [1]]]`."""
    return Notification.from_text(json.dumps(data, separators=(",", ":"))).encode()


async def send(hass: HomeAssistant, panel: SimulatedPanel, *frames: bytes) -> None:
    """Send frames, then a ping: its echo proves the listener handled everything before it."""
    for frame in frames:
        await panel.send("frame", frame)
    await panel.ping()
    await hass.async_block_till_done()
    assert panel.result.problems == []


@contextlib.asynccontextmanager
async def connected_panel(
    hass: HomeAssistant, port: int, *, guid: str = GUID, firmware: str = "207"
) -> AsyncIterator[SimulatedPanel]:
    """A simulated panel connected to the listener on `port`, past its hello."""
    panel = SimulatedPanel(HOST, port, guid=guid, firmware=firmware)
    async with panel:
        await panel.hello()
        await hass.async_block_till_done()
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


class FakeCloud:
    """A vendor cloud on loopback: answers what panels send as the real one does."""

    def __init__(self) -> None:
        """Not listening until start()."""
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        return len(self._writers)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(cloud_ip="47.88.7.61", cloud_port=5678)
        self._writers.add(writer)
        try:
            while data := await reader.read(4096):
                for frame, _, _, reply in session.receive(data):
                    self.received.append(frame)
                    if reply:
                        writer.write(reply)
                await writer.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    def drop(self) -> None:
        """Hang up on every connection (the cloud went away for a moment)."""
        for writer in list(self._writers):
            writer.transport.abort()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()
        await self._server.wait_closed()
