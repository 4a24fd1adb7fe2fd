"""After a restart, panels and zones are back with their last state before any panel connects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.alarm_control_panel import AlarmControlPanelState
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.g90_cloud.const import (
    CONF_LOCAL_PORT,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    CONNECTED_WITHIN,
    DOMAIN,
)
from custom_components.g90_cloud.hub import SAVE_DELAY

from .common import (
    GUID,
    HOST,
    LISTEN_ONLY,
    AlertSource,
    FakeCloud,
    PeripheralType,
    activity,
    alarm,
    connected_panel,
    entity_id,
    panel_device,
    panel_state,
    send,
    wait_for,
    zone_device,
)
from .g90.aio.helpers import ClosedPort


def store_key(entry: MockConfigEntry) -> str:
    return f"{DOMAIN}.{entry.entry_id}"


def state(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    found = hass.states.get(entity_id(hass, platform, unique_id))
    assert found is not None
    return found


def zone(hass: HomeAssistant, index: int, problem: str = "") -> str:
    suffix = f"_{problem}" if problem else ""
    return state(hass, "binary_sensor", f"{GUID}_zone_{index}{suffix}").state


def panel(hass: HomeAssistant, key: str) -> str:
    return state(hass, "binary_sensor", f"{GUID}_{key}").state


async def test_restart_keeps_zones_and_state(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_storage: dict[str, Any],
) -> None:
    entry = init_integration
    async with connected_panel(hass, port) as sim:
        await send(
            hass,
            sim,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            activity(1, "Front door", AlertSource.SENSOR, 3),
            activity(2, "Hall motion", AlertSource.INFRARED, 0),
            activity(2, "Hall motion", AlertSource.INFRARED, 2),
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
            alarm(5, "Kitchen smoke", PeripheralType.SMOKE),
            panel_state("armed_away"),
            panel_state("wifi_disconnected"),
            panel_state("ac_power_failure"),
        )
    await wait_for(hass, lambda: panel(hass, "connected") == STATE_OFF)
    assert zone(hass, 2) == STATE_ON
    registry = er.async_get(hass)
    entities_before = sorted(
        item.unique_id for item in er.async_entries_for_config_entry(registry, entry.entry_id)
    )

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[store_key(entry)]["data"]["panels"][GUID]
    assert stored["alarm_state"] == "armed_away"
    assert stored["firmware"] == "207"
    assert stored["zones"]["1"] == {
        "name": "Front door",
        "kind": "door",
        "on": True,
        "latched": False,
        "tamper": True,
        "low_battery": False,
        "open": True,  # the door was last reported open
        "listed": True,  # in the panel's sensor list
        "enabled": True,
    }

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # No panel has connected yet.
    assert entry.runtime_data.listener.connections == frozenset()
    assert zone(hass, 1) == STATE_ON  # the door was left open
    assert zone(hass, 1, "tamper") == STATE_ON
    assert zone(hass, 2) == STATE_OFF  # activity long over does not come back
    assert zone(hass, 2, "low_battery") == STATE_ON
    assert zone(hass, 5) == STATE_ON  # an alarm stays until disarmed
    assert state(hass, "binary_sensor", f"{GUID}_zone_5").attributes["device_class"] == "smoke"
    assert state(hass, "binary_sensor", f"{GUID}_zone_1").name == "Front door"
    alarm_panel = state(hass, "alarm_control_panel", f"{GUID}_alarm")
    assert alarm_panel.state == AlarmControlPanelState.ARMED_AWAY
    assert panel(hass, "connected") == STATE_OFF
    assert panel(hass, "wifi") == STATE_OFF
    assert panel(hass, "ac_power") == STATE_OFF
    keyfob = state(hass, "event", f"{GUID}_zone_10_buttons")
    assert keyfob.attributes["event_type"] == "arm_away"
    assert (
        sorted(
            item.unique_id for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        )
        == entities_before
    )

    # The restored entities follow the panel once it is back.
    async with connected_panel(hass, port) as sim:
        await send(hass, sim, activity(1, "Front door", AlertSource.SENSOR, 0))
        assert zone(hass, 1) == STATE_OFF
        await send(hass, sim, panel_state("disarmed"))
        assert zone(hass, 5) == STATE_OFF
        assert zone(hass, 1, "tamper") == STATE_OFF
        assert panel(hass, "connected") == STATE_ON


async def test_state_is_saved_while_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A crash loses at most a few seconds: the state is saved soon after each change."""
    key = store_key(init_integration)
    async with connected_panel(hass, port) as sim:
        await send(hass, sim, activity(3, "Garage", AlertSource.SENSOR, 1))
        freezer.tick(timedelta(seconds=SAVE_DELAY - 1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert key not in hass_storage
        freezer.tick(timedelta(seconds=2))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        stored = hass_storage[key]["data"]["panels"][GUID]
        assert stored["zones"]["3"]["on"] is True
        await send(hass, sim, activity(3, "Garage", AlertSource.SENSOR, 0))
        freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        stored = hass_storage[store_key(init_integration)]["data"]["panels"][GUID]
        assert stored["zones"]["3"]["on"] is False


async def test_nothing_is_written_after_the_last_write_at_stop(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stopped hub writes no more: a reloaded entry's hub writes the same store."""
    key = store_key(init_integration)
    hub = init_integration.runtime_data
    async with connected_panel(hass, port) as sim:
        await send(hass, sim, activity(3, "Garage", AlertSource.SENSOR, 1))
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    written = hass_storage[key]
    hub.panels[GUID].zones[3].on = False  # a late change in the old hub...
    hub.save()  # ...which would have been written SAVE_DELAY later
    freezer.tick(timedelta(seconds=SAVE_DELAY * 3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass_storage[key] is written
    assert written["data"]["panels"][GUID]["zones"]["3"]["on"] is True


async def test_a_busy_panel_is_stored_in_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A panel reporting every half second does not keep its state from being stored."""
    key = store_key(init_integration)
    async with connected_panel(hass, port) as sim:
        written_after: float | None = None
        for step in range(1, 21):  # ten seconds of it
            await send(hass, sim, activity(3, "Garage", AlertSource.SENSOR, step % 2))
            freezer.tick(timedelta(seconds=0.5))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
            if written_after is None and key in hass_storage:
                written_after = step * 0.5
                hass_storage.pop(key)
        assert written_after is not None
        assert written_after <= SAVE_DELAY + 0.5
        # And again: each write follows the first change after the one before.
        assert key in hass_storage
        stored = hass_storage[key]["data"]["panels"][GUID]
        assert stored["zones"]["3"]["name"] == "Garage"


async def test_start_from_stored_state(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A fresh Home Assistant with only the integration's store: everything is rebuilt."""
    hass_storage[store_key(mock_config_entry)] = {
        "version": 1,
        "minor_version": 1,
        "key": store_key(mock_config_entry),
        "data": {
            "panels": {
                GUID: {
                    "firmware": "207",
                    "alarm_state": "armed_home",
                    "ac_power": True,
                    "wifi": True,
                    "battery_low": True,
                    "zones": {
                        "1": {"name": "Front door", "kind": "door", "on": True},
                        "2": {"name": "Hall motion", "kind": "motion", "on": True},
                        "5": {"name": "Smoke", "kind": "smoke", "on": True, "latched": True},
                        "6": {"name": "Odd", "kind": "toaster", "tamper": True},
                        "7": {"kind": "remote"},
                        "x": {"name": "not a zone"},
                        "8": "not a zone either",
                    },
                },
                "GB00000B0000000": {"alarm_state": "nonsense", "zones": None},
                "GC00000C0000000": "not a panel",
            }
        },
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    entry_id = mock_config_entry.entry_id
    device = panel_device(hass, entry_id)
    assert device.sw_version == "207"
    for index, name in ((1, "Front door"), (2, "Hall motion"), (5, "Smoke"), (6, "Odd")):
        found = zone_device(hass, entry_id, index)
        assert found is not None
        assert found.name == name
        assert found.via_device_id == device.id
    assert zone_device(hass, entry_id, 7).name == "Zone 7"
    assert zone_device(hass, entry_id, 8) is None
    assert zone(hass, 1) == STATE_ON
    assert zone(hass, 2) == STATE_OFF
    assert zone(hass, 5) == STATE_ON
    assert zone(hass, 6) == STATE_OFF
    assert zone(hass, 6, "tamper") == STATE_ON
    assert state(hass, "binary_sensor", f"{GUID}_zone_6").attributes.get("device_class") is None
    assert state(hass, "event", f"{GUID}_zone_7_buttons").state == STATE_UNKNOWN
    assert panel(hass, "battery") == STATE_ON
    assert state(hass, "alarm_control_panel", f"{GUID}_alarm").state == "armed_home"
    other = state(hass, "alarm_control_panel", "GB00000B0000000_alarm")
    assert other.state == STATE_UNKNOWN
    identifiers = {
        identifier
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for identifier in device.identifiers
    }
    assert (DOMAIN, "GB00000B0000000") in identifiers
    assert not any("GC00000C0000000" in name for _domain, name in identifiers)


async def test_start_with_relays_and_info(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """What the panel told when asked comes back too: its info, relays and alert switches."""
    info = ["", "TSV018-C3SIA", "1.2", "1.1", "206", "206", 3, 3, 0, 2, "4100", 60, 90]
    hass_storage[store_key(mock_config_entry)] = {
        "version": 1,
        "minor_version": 1,
        "key": store_key(mock_config_entry),
        "data": {
            "panels": {
                GUID: {
                    "product": "TSV018-C3SIA",
                    "hardware": "MCU 206, WiFi 206",
                    "info": info,
                    "alert_flags": 256,
                    "lan_address": "192.168.1.50",
                    "relays": {
                        "10": {"name": "Socket", "peripheral_type": 128, "on": {"0": True}},
                        "11": {"name": "Switch", "channels": 2, "on": {"1": False, "5": True}},
                        "12": {"channels": "two", "on": "yes"},
                    },
                },
                "GB00000B0000000": {
                    "info": ["too", "short"],
                    "alert_flags": -1,
                    "lan_address": "not an address",
                },
            }
        },
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    hub = mock_config_entry.runtime_data
    assert panel_device(hass, mock_config_entry.entry_id).model == "TSV018-C3SIA"
    assert state(hass, "sensor", f"{GUID}_battery_voltage").state == "4100"
    assert state(hass, "switch", f"{GUID}_relay_10_0").state == STATE_ON
    assert state(hass, "switch", f"{GUID}_relay_11_0").state == STATE_UNKNOWN
    assert state(hass, "switch", f"{GUID}_relay_11_1").state == STATE_OFF
    assert state(hass, "switch", f"{GUID}_relay_12_0").state == STATE_UNKNOWN
    assert hub.panels[GUID].relays[11].on == {1: False}
    assert state(hass, "switch", f"{GUID}_alert_door_close").state == STATE_ON
    assert hub.lan_address(GUID) == "192.168.1.50"
    other = hub.panels["GB00000B0000000"]
    assert (other.info, other.alert_flags, other.lan_address) == (None, None, None)


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # the restored state, not read anew
async def test_restored_states_are_shown_for_the_first_window(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stored panels keep their last state while they have had time to say hello, not longer."""
    hass_storage[store_key(mock_config_entry)] = {
        "version": 1,
        "minor_version": 1,
        "key": store_key(mock_config_entry),
        "data": {
            "panels": {
                GUID: {
                    "alarm_state": "armed_home",
                    "zones": {"1": {"name": "Front door", "kind": "door", "on": True}},
                }
            }
        },
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    def shown() -> tuple[str, str, str]:
        alarm_panel = state(hass, "alarm_control_panel", f"{GUID}_alarm").state
        return alarm_panel, zone(hass, 1), panel(hass, "connected")

    assert shown() == ("armed_home", STATE_ON, STATE_OFF)
    freezer.tick(CONNECTED_WITHIN - timedelta(seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert shown() == ("armed_home", STATE_ON, STATE_OFF)

    # The first window has passed and the panel has not been heard.
    freezer.tick(timedelta(seconds=36))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert shown() == (STATE_UNAVAILABLE, STATE_UNAVAILABLE, STATE_OFF)

    # It says hello: its entities are back, with the state restored.
    async with connected_panel(hass, int(mock_config_entry.data[CONF_LOCAL_PORT])):
        assert shown() == ("armed_home", STATE_ON, STATE_ON)


async def test_what_was_kept_for_the_vendor_cloud_survives_a_restart(
    hass: HomeAssistant, entry_data: dict[str, object], socket_enabled: None
) -> None:
    """Chaining, the vendor cloud away: an alarm kept for it is in the store when Home
    Assistant stops, and goes to the cloud once it is back after the restart."""
    away = ClosedPort()
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data | {CONF_UPSTREAM_HOST: HOST, CONF_UPSTREAM_PORT: away.port}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    port = int(entry_data[CONF_LOCAL_PORT])
    alarm = activity(1, "Front door", AlertSource.SENSOR, 1)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, alarm)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    cloud = FakeCloud()
    await cloud.start(away.release())
    try:
        async with connected_panel(hass, port):
            await wait_for(hass, lambda: alarm in cloud.received)
        assert cloud.received.count(alarm) == 1
    finally:
        await cloud.close()
