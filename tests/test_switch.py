"""Switches: relays (command 137) and the panel's alert switches (117 read, 116 written)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN, EntityCategory
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.g90_cloud import async_remove_config_entry_device
from custom_components.g90_cloud.const import (
    CONF_CONTROL_CHANNEL,
    CONF_PANEL_LAN_ADDRESS,
    DOOR_CLEARS_AFTER,
    REFRESH_INTERVAL,
)
from custom_components.g90_cloud.g90.commands import AlertFlags, CommandCode, DeviceRecord
from custom_components.g90_cloud.g90.panel_model import (
    DEFAULT_ALERTS,
    DEMO_RELAYS,
    PanelModel,
    Quirk,
)

from .common import (
    GUID,
    LISTEN_ONLY,
    AlertSource,
    PeripheralType,
    activity,
    alarm,
    connected_panel,
    entity_id,
    panel_state,
    send,
    zone_device,
)


def state_of(hass: HomeAssistant, unique_id: str, platform: str = "switch") -> State:
    state = hass.states.get(entity_id(hass, platform, unique_id))
    assert state is not None, unique_id
    return state


async def switch(hass: HomeAssistant, unique_id: str, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": entity_id(hass, "switch", unique_id)},
        blocking=True,
    )


def relay_device(hass: HomeAssistant, entry_id: str, index: int) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        ("g90_cloud", f"{GUID}_relay_{index}"), entry_id
    )


def sent(model: PanelModel, code: int) -> list[Any]:
    return [request.params for request in model.requests if request.code == code]


async def refresh(hass: HomeAssistant) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + REFRESH_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)


# --- relays --------------------------------------------------------------------------


async def test_relays(hass: HomeAssistant, init_integration: MockConfigEntry, port: int) -> None:
    entry_id = init_integration.entry_id
    async with connected_panel(hass, port) as panel:
        socket = state_of(hass, f"{GUID}_relay_10_0")
        assert socket.name == "Socket"
        assert socket.state == STATE_UNKNOWN  # a panel cannot tell
        assert socket.attributes["assumed_state"] is True
        first = state_of(hass, f"{GUID}_relay_11_0")
        second = state_of(hass, f"{GUID}_relay_11_1")
        assert (first.name, second.name) == ("Switch Channel 1", "Switch Channel 2")
        device = relay_device(hass, entry_id, 11)
        assert device is not None
        assert device.model == "Smart switch"
        assert device.via_device_id is not None

        await switch(hass, f"{GUID}_relay_10_0", on=True)
        await switch(hass, f"{GUID}_relay_11_1", on=True)
        await switch(hass, f"{GUID}_relay_11_1", on=False)
        assert sent(panel.model, CommandCode.CONTROL_RELAY) == [
            (10, 0, 0),
            (11, 0, 1),
            (11, 1, 1),
        ]
        assert panel.model.relay_states == {(10, 0): True, (11, 1): False}
        assert state_of(hass, f"{GUID}_relay_10_0").state == STATE_ON
        assert state_of(hass, f"{GUID}_relay_11_1").state == STATE_OFF
        assert state_of(hass, f"{GUID}_relay_11_0").state == STATE_UNKNOWN

        # The panel refuses: an error, and the switch shows what it showed.
        panel.model.quirks.append(Quirk(refuse=True))
        with pytest.raises(HomeAssistantError) as raised:
            await switch(hass, f"{GUID}_relay_10_0", on=False)
        assert raised.value.translation_key == "command_refused"
        assert state_of(hass, f"{GUID}_relay_10_0").state == STATE_ON
    assert zone_device(hass, entry_id, 10) is not None  # relay 10 is not zone 10


async def test_relays_follow_the_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    model = PanelModel()
    registry = er.async_get(hass)
    async with connected_panel(hass, port, model=model):
        await switch(hass, f"{GUID}_relay_10_0", on=True)
        socket, switch_relay = DEMO_RELAYS
        lamp = DeviceRecord("Lamp", 12, peripheral_type=140, user_flags=1)
        model.relays = [replace(socket, name="Heater"), replace(switch_relay, node_count=1), lamp]
        await refresh(hass)
        heater = state_of(hass, f"{GUID}_relay_10_0")
        assert heater.name == "Heater"
        assert heater.state == STATE_ON  # what was commanded stays
        # One channel now: the second one's switch is gone.
        assert state_of(hass, f"{GUID}_relay_11_0")
        assert registry.async_get_entity_id("switch", "g90_cloud", f"{GUID}_relay_11_1") is None
        assert state_of(hass, f"{GUID}_relay_12_0").name == "Lamp"
        model.relays = [lamp]
        await refresh(hass)
        assert registry.async_get_entity_id("switch", "g90_cloud", f"{GUID}_relay_10_0") is None
        assert relay_device(hass, init_integration.entry_id, 10) is None


async def test_a_relay_device_can_be_removed(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        device = relay_device(hass, init_integration.entry_id, 10)
        assert device is not None
        assert await async_remove_config_entry_device(hass, init_integration, device)
        assert 10 not in init_integration.runtime_data.panels[GUID].relays


async def test_a_reply_that_makes_no_sense(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        panel.model.quirks.append(Quirk(reply_code=CommandCode.GET_RELAYS))
        with pytest.raises(HomeAssistantError) as raised:
            await switch(hass, f"{GUID}_relay_10_0", on=True)
        assert raised.value.translation_key == "command_failed"
        assert "reply carries code 138" in str(raised.value)


@pytest.mark.parametrize(
    "entry_options", [{CONF_CONTROL_CHANNEL: "lan", CONF_PANEL_LAN_ADDRESS: "127.0.0.1"}]
)
async def test_a_lan_that_cannot_be_used(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with connected_panel(hass, port):
        commands = init_integration.runtime_data.commands

        async def no_route(*_args: Any, **_kwargs: Any) -> None:
            raise OSError("Network is unreachable")

        monkeypatch.setattr(commands._lan, "run", no_route)
        with pytest.raises(HomeAssistantError) as raised:
            await switch(hass, f"{GUID}_alert_sms_push", on=True)
        assert raised.value.translation_key == "command_failed"
        assert "unreachable" in str(raised.value)
        record = commands.history[GUID][-1]
        assert (record.channel, record.outcome) == ("lan", "OSError")


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])
async def test_no_switches_when_listening_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        pass
    assert er.async_get(hass).entities.get_entries_for_config_entry_id(init_integration.entry_id)
    assert hass.states.async_entity_ids("switch") == []


# --- alert switches ------------------------------------------------------------------

UNNAMED = 2048 | 8192
"""Bits a real panel has set that nobody has named."""


async def test_alert_switches(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    registry = er.async_get(hass)
    async with connected_panel(hass, port) as panel:
        expected = {
            "ac_power_failure": STATE_ON,
            "ac_power_restored": STATE_ON,
            "arm_disarm": STATE_ON,
            "panel_low_battery": STATE_ON,
            "sensor_low_battery": STATE_ON,
            "wifi_available": STATE_OFF,
            "wifi_unavailable": STATE_OFF,
            "door_open": STATE_ON,
            "door_close": STATE_ON,
            "sms_push": STATE_OFF,
        }
        for key, state in expected.items():
            alert = state_of(hass, f"{GUID}_alert_{key}")
            assert alert.state == state, key
            entry = registry.async_get(alert.entity_id)
            assert entry.entity_category is EntityCategory.CONFIG
        assert state_of(hass, f"{GUID}_alert_door_close").name == (
            f"G90 panel {GUID} Door close alert"
        )

        # Meanwhile, someone turns SMS push on with the vendor's app.
        panel.model.alert_flags |= AlertFlags.SMS_PUSH
        await switch(hass, f"{GUID}_alert_door_close", on=False)
        # Read fresh, one bit changed, written: the app's change and the unnamed bits kept.
        assert [request.code for request in panel.model.requests][-2:] == [117, 116]
        wanted = (int(DEFAULT_ALERTS) | AlertFlags.SMS_PUSH) & ~int(AlertFlags.DOOR_CLOSE)
        assert wanted & UNNAMED == UNNAMED
        assert sent(panel.model, CommandCode.SET_ALERTS) == [(wanted,)]
        assert int(panel.model.alert_flags) == wanted
        assert state_of(hass, f"{GUID}_alert_door_close").state == STATE_OFF
        assert state_of(hass, f"{GUID}_alert_sms_push").state == STATE_ON

        await switch(hass, f"{GUID}_alert_wifi_available", on=True)
        assert int(panel.model.alert_flags) == wanted | AlertFlags.WIFI_AVAILABLE
        # Already as asked: read, nothing written.
        await switch(hass, f"{GUID}_alert_wifi_available", on=True)
        assert len(sent(panel.model, CommandCode.SET_ALERTS)) == 2

        panel.model.quirks.append(Quirk(refuse=True))
        with pytest.raises(HomeAssistantError):
            await switch(hass, f"{GUID}_alert_door_open", on=False)
        assert state_of(hass, f"{GUID}_alert_door_open").state == STATE_ON


# --- doors when door-close alerts are off ---------------------------------------------


async def elapse(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Time passes: the timers due meanwhile fire, and what they started is done."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_doors_close_by_themselves_without_door_close_alerts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The panel reports no door closing: an open door clears after DOOR_CLEARS_AFTER (3 s)."""
    assert timedelta(seconds=3) == DOOR_CLEARS_AFTER
    model = PanelModel(alert_flags=DEFAULT_ALERTS & ~AlertFlags.DOOR_CLOSE)
    async with connected_panel(hass, port, model=model) as panel:
        assert state_of(hass, f"{GUID}_alert_door_close").state == STATE_OFF
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        door = f"{GUID}_zone_1"
        assert state_of(hass, door, "binary_sensor").state == STATE_ON
        await elapse(hass, freezer, timedelta(seconds=2))
        assert state_of(hass, door, "binary_sensor").state == STATE_ON
        await elapse(hass, freezer, timedelta(seconds=2))
        assert state_of(hass, door, "binary_sensor").state == STATE_OFF

        # Turned on again: doors report their closing, and stay open until they do.
        await switch(hass, f"{GUID}_alert_door_close", on=True)
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        await elapse(hass, freezer, timedelta(minutes=2))
        assert state_of(hass, door, "binary_sensor").state == STATE_ON

        # Turned off while a door is open: it clears too.
        await switch(hass, f"{GUID}_alert_door_close", on=False)
        await elapse(hass, freezer, DOOR_CLEARS_AFTER + timedelta(seconds=1))
        assert state_of(hass, door, "binary_sensor").state == STATE_OFF


async def test_a_door_alarm_without_door_close_alerts_ends_closed_at_disarm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The alarm holds the zone on; its door is taken as closed after 3 s all the same,
    so disarming leaves it off, not open for ever (no closing will ever be reported)."""
    model = PanelModel(alert_flags=DEFAULT_ALERTS & ~AlertFlags.DOOR_CLOSE)
    async with connected_panel(hass, port, model=model) as panel:
        door = f"{GUID}_zone_1"
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            alarm(1, "Front door", PeripheralType.DOOR),  # entry delay 0: at once
        )
        await elapse(hass, freezer, DOOR_CLEARS_AFTER + timedelta(seconds=1))
        assert state_of(hass, door, "binary_sensor").state == STATE_ON  # the alarm holds it
        await send(hass, panel, panel_state("disarmed"))
        assert state_of(hass, door, "binary_sensor").state == STATE_OFF
        # Opened again while in alarm, disarmed at once: open until its 3 s are up.
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            alarm(1, "Front door", PeripheralType.DOOR),
            activity(1, "Front door", AlertSource.SENSOR, 1),
            panel_state("disarmed"),
        )
        assert state_of(hass, door, "binary_sensor").state == STATE_ON  # opened 0 s ago
        await elapse(hass, freezer, DOOR_CLEARS_AFTER + timedelta(seconds=1))
        assert state_of(hass, door, "binary_sensor").state == STATE_OFF


async def test_a_door_open_at_a_restart_without_door_close_alerts_comes_back_closed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Opened a second before a restart (or a reload): its 3 s timer is gone with the old
    Home Assistant, and no closing will be reported; it must not stay open for ever."""
    model = PanelModel(alert_flags=DEFAULT_ALERTS & ~AlertFlags.DOOR_CLOSE)
    door = f"{GUID}_zone_1"
    async with connected_panel(hass, port, model=model) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        assert state_of(hass, door, "binary_sensor").state == STATE_ON
        assert await hass.config_entries.async_unload(init_integration.entry_id)
        await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=1))
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, door, "binary_sensor").state == STATE_OFF


async def test_door_close_alerts_turned_off_during_a_door_alarm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The alarm holds the zone on; the door, open when the alerts are turned off, is
    taken as closed after 3 s, so disarming leaves it off."""
    async with connected_panel(hass, port) as panel:
        door = f"{GUID}_zone_1"
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            alarm(1, "Front door", PeripheralType.DOOR),
        )
        await switch(hass, f"{GUID}_alert_door_close", on=False)
        await elapse(hass, freezer, DOOR_CLEARS_AFTER + timedelta(seconds=1))
        assert state_of(hass, door, "binary_sensor").state == STATE_ON  # the alarm holds it
        await send(hass, panel, panel_state("disarmed"))
        assert state_of(hass, door, "binary_sensor").state == STATE_OFF
