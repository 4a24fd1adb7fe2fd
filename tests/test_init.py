"""Setup, unload, and a panel's scenario end to end through the real listener."""

from __future__ import annotations

import socket

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.g90_cloud.const import CONF_LOCAL_PORT, DOMAIN
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS

GUID = "GA00000A0000000"


async def test_setup_and_unload_frees_the_port(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    port = entry.data[CONF_LOCAL_PORT]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if the listener still held it


async def test_demo_scenario_reaches_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    port = init_integration.data[CONF_LOCAL_PORT]
    fired: list[dict[str, object]] = []
    hass.bus.async_listen("g90_cloud_event", lambda event: fired.append(dict(event.data)))
    result = await simulate("127.0.0.1", port, SCENARIOS["demo"], speed=1000)
    await hass.async_block_till_done()
    assert result.problems == []

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, GUID), init_integration.entry_id
    )
    assert device is not None
    entities = er.async_get(hass)
    alarm = entities.async_get_entity_id("alarm_control_panel", DOMAIN, f"{GUID}_alarm")
    assert alarm is not None
    assert hass.states.get(alarm).state == "disarmed"
    door = entities.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_zone_1")
    assert door is not None
    state = hass.states.get(door)
    assert state.state == "off"
    assert state.attributes["device_class"] == "door"
    assert state.name == "Front door"
    types = [event["type"] for event in fired]
    assert types[:4] == ["door_open", "door_close", "motion", "remote_button"]
    assert "sos" in types
    assert all(event["device_id"] == device.id for event in fired)
