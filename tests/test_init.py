"""Setup, unload, a port in use, a scenario end to end, and removing devices."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.g90_cloud import async_remove_config_entry_device
from custom_components.g90_cloud.const import (
    CONF_ALLOWED_GUIDS,
    CONF_LOCAL_PORT,
    DOMAIN,
    EVENT_G90,
)
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel, simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS

from .common import (
    GUID,
    HOST,
    AlertSource,
    activity,
    connected_panel,
    entity_id,
    notification,
    panel_device,
    port_is_free,
    send,
    wait_for,
    zone_device,
)
from .g90.frames import PING, hello


async def test_setup_and_unload_frees_the_port(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    port = entry.data[CONF_LOCAL_PORT]
    assert not port_is_free(port)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert port_is_free(port)


async def test_unload_hangs_up_on_panels(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    panel = SimulatedPanel(HOST, port)
    async with panel:
        await panel.hello()
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        door = entity_id(hass, "binary_sensor", f"{GUID}_zone_1")
        hub = init_integration.runtime_data
        assert len(hub.listener.connections) == 2
        assert await hass.config_entries.async_unload(init_integration.entry_id)
        await hass.async_block_till_done()
        # Both connections see the listener hang up.
        for stream in (reader, panel._reader):
            assert stream is not None
            async with asyncio.timeout(5):
                with contextlib.suppress(ConnectionResetError):
                    assert await stream.read(1024) == b""
        assert hass.states.get(door).state == STATE_UNAVAILABLE
    writer.close()
    assert port_is_free(port)
    assert hub.listener.connections == frozenset()


async def test_home_assistant_stopping_hangs_up_on_panels(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Stopping does not unload entries: the connections are closed all the same."""
    panel = SimulatedPanel(HOST, port)
    async with panel:
        await panel.hello()
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await hass.async_block_till_done()
        assert panel._reader is not None
        async with asyncio.timeout(5):
            with contextlib.suppress(ConnectionResetError):
                assert await panel._reader.read(1024) == b""
    assert port_is_free(port)


async def test_port_in_use_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry = mock_config_entry
    port = entry.data[CONF_LOCAL_PORT]
    issue_id = f"cannot_listen_{entry.entry_id}"
    blocker = socket.socket()
    blocker.bind((HOST, port))
    blocker.listen()
    try:
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        issue = issue_registry.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "cannot_listen"
        assert issue.severity is ir.IssueSeverity.ERROR
        assert issue.is_fixable is False
        assert issue.translation_placeholders == {
            "host": HOST,
            "port": str(port),
            "error": f"port {port} on {HOST} is already in use by another program",
        }
        assert entry.reason is not None
        assert str(port) in entry.reason
    finally:
        blocker.close()

    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    async with connected_panel(hass, port) as panel:
        await send(hass, panel)


async def test_removing_the_entry_removes_what_it_stored(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_storage: dict[str, Any],
) -> None:
    """Its panels' GUIDs, LAN addresses and zones do not stay on disk."""
    key = f"{DOMAIN}.{init_integration.entry_id}"
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(1, "Front door"))
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert GUID in str(hass_storage[key])  # written at unload
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_removing_the_entry_forgets_its_issue(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry = mock_config_entry
    issue_id = f"cannot_listen_{entry.entry_id}"
    with socket.socket() as blocker:
        blocker.bind((HOST, entry.data[CONF_LOCAL_PORT]))
        blocker.listen()
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
        assert await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_demo_scenario_reaches_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    fired = async_capture_events(hass, EVENT_G90)
    result = await simulate(HOST, port, SCENARIOS["demo"], speed=1000)
    await hass.async_block_till_done()
    assert result.problems == []
    assert result.announced_port == 5678
    assert result.announced_ip == HOST

    device = panel_device(hass, init_integration.entry_id)
    alarm = entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")
    assert hass.states.get(alarm).state == "disarmed"
    state = hass.states.get(entity_id(hass, "binary_sensor", f"{GUID}_zone_1"))
    assert state.state == STATE_OFF
    assert state.attributes["device_class"] == "door"
    assert state.name == "Front door"
    types = [event.data["type"] for event in fired]
    assert types[:4] == ["door_open", "door_close", "motion", "remote_button"]
    assert "sos" in types
    assert all(event.data["device_id"] == device.id for event in fired)


# --- removing devices --------------------------------------------------------------


async def remove_device(
    hass: HomeAssistant, ws_client: Any, entry: MockConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    await ws_client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    response = await ws_client.receive_json()
    await hass.async_block_till_done()
    return response


async def test_remove_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = init_integration
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    hub = entry.runtime_data

    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            activity(2, "Hall motion", AlertSource.INFRARED, 0),
        )
        panel_entry = panel_device(hass, entry.entry_id)
        response = await remove_device(hass, client, entry, panel_entry)
        assert not response["success"]
        assert devices.async_get(panel_entry.id) is not None
        assert GUID in hub.panels

        # A zone can go while its panel is connected.
        door = zone_device(hass, entry.entry_id, 1)
        response = await remove_device(hass, client, entry, door)
        assert response["success"]
        assert devices.async_get(door.id) is None
        assert entities.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_zone_1") is None
        assert 1 not in hub.panels[GUID].zones

        # The panel reports the zone again: it is back, with its entities.
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        assert zone_device(hass, entry.entry_id, 1) is not None
        door_sensor = entity_id(hass, "binary_sensor", f"{GUID}_zone_1")
        assert hass.states.get(door_sensor).state == "on"

    await wait_for(
        hass,
        lambda: (
            hass.states.get(entity_id(hass, "binary_sensor", f"{GUID}_connected")).state
            == STATE_OFF
        ),
    )
    panel_entry = panel_device(hass, entry.entry_id)
    response = await remove_device(hass, client, entry, panel_entry)
    assert response["success"]
    assert devices.async_get(panel_entry.id) is None
    assert GUID not in hub.panels
    assert entities.async_get_entity_id("alarm_control_panel", DOMAIN, f"{GUID}_alarm") is None
    # Its zones go with it.
    assert dr.async_entries_for_config_entry(devices, entry.entry_id) == []
    assert er.async_entries_for_config_entry(entities, entry.entry_id) == []

    # The panel comes back: device and entities are created afresh.
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(2, "Hall motion", AlertSource.INFRARED, 0))
    assert panel_device(hass, entry.entry_id) is not None
    assert hass.states.get(entity_id(hass, "alarm_control_panel", f"{GUID}_alarm"))
    assert hass.states.get(entity_id(hass, "binary_sensor", f"{GUID}_zone_2")).state == "on"


async def test_removing_a_device_of_an_entry_that_is_not_running_says_why(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, hass_ws_client: Any
) -> None:
    """Disabled, or kept from starting: the device stays, with a message saying what to do
    (not "unknown error"), and comes back with the entry."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    door = zone_device(hass, init_integration.entry_id, 1)
    assert door is not None
    response = await remove_device(hass, client, init_integration, door)
    assert not response["success"]
    assert response["error"]["code"] == "home_assistant_error"
    assert "not running" in response["error"]["message"]
    assert zone_device(hass, init_integration.entry_id, 1) is not None


async def test_remove_a_device_of_another_kind(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A device without this integration's identifiers is nobody's business here."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=init_integration.entry_id, identifiers={("other", "thing")}
    )
    assert await async_remove_config_entry_device(hass, init_integration, device)
    unknown = dr.async_get(hass).async_get_or_create(
        config_entry_id=init_integration.entry_id, identifiers={(DOMAIN, "GZ00000Z0000000")}
    )
    assert await async_remove_config_entry_device(hass, init_integration, unknown)


async def test_entry_without_an_announced_address_uses_the_lan_address(
    hass: HomeAssistant, free_port: int
) -> None:
    """An entry made elsewhere (or by an older version) may lack cloud_ip: it still loads."""
    entry = MockConfigEntry(domain=DOMAIN, data={"local_ip": "127.0.0.1", "local_port": free_port})
    entry.add_to_hass(hass)
    with patch("homeassistant.components.network.async_get_source_ip", return_value="192.0.2.7"):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    result = await simulate("127.0.0.1", free_port, [], speed=1000)
    assert result.problems == []
    assert result.announced_ip == "192.0.2.7"
    assert result.announced_port == 5678


@pytest.mark.parametrize("entry_options", [{CONF_ALLOWED_GUIDS: [GUID]}])
async def test_a_refused_panel_gets_no_device_whatever_it_sent_before_its_hello(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """One write of an alert then a hello naming a panel the allow-list refuses: the
    frames before that hello were nobody's, and nothing of that panel is created."""
    refused = "GX00000X0000000"
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(activity(1, "Intruder") + hello(refused) + PING)
    await writer.drain()
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # refused: closed without an answer
    writer.close()
    await hass.async_block_till_done()
    hub = init_integration.runtime_data
    assert refused not in hub.panels
    assert refused not in hub.frames
    devices = dr.async_get(hass)
    assert (
        devices.async_get_device_by_identifier((DOMAIN, refused), init_integration.entry_id) is None
    )
    async with connected_panel(hass, port) as panel:  # the listed panel still gets in
        await send(hass, panel)
    assert panel_device(hass, init_integration.entry_id)


@pytest.mark.parametrize("entry_options", [{CONF_ALLOWED_GUIDS: [GUID]}])
async def test_a_peer_that_never_says_hello_reports_nothing_with_an_allow_list(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """More alerts than a connection may hold before hello, naming a panel not listed:
    none reaches Home Assistant (no device, no bus event), however many come."""
    stranger = "GZ99999Z9999999"
    bus = async_capture_events(hass, EVENT_G90)
    alert = notification([208, [4, 1, 1, 1, "Door", stranger, 1737794080, 0, ""]])
    peer = SimulatedPanel(HOST, port, guid=stranger)
    async with peer:
        await peer.send("alerts", alert * 300)
        await peer.ping()
        await hass.async_block_till_done()
    await hass.async_block_till_done()
    assert stranger not in init_integration.runtime_data.panels
    entry_id = init_integration.entry_id
    assert dr.async_get(hass).async_get_device_by_identifier((DOMAIN, stranger), entry_id) is None
    assert bus == []
