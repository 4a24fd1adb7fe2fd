"""The panel's picture, read at every connect and every REFRESH_INTERVAL: state, info, zones."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
import logging

from homeassistant.components.alarm_control_panel import AlarmControlPanelState
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.g90_cloud.const import REFRESH_INTERVAL
from custom_components.g90_cloud.g90.commands import (
    ArmState,
    CommandCode,
    DeviceRecord,
    HostInfo,
)
from custom_components.g90_cloud.g90.panel_model import (
    DEMO_INFO,
    DEMO_RELAYS,
    DEMO_SENSORS,
    PanelModel,
    Quirk,
)

from .common import (
    GUID,
    AlertSource,
    activity,
    connected_panel,
    entity_id,
    notification,
    panel_device,
    send,
    until,
    zone_device,
)

READS = [
    CommandCode.GET_HOST_STATUS,
    CommandCode.GET_HOST_INFO,
    CommandCode.GET_SENSORS,
    CommandCode.GET_RELAYS,
    CommandCode.GET_ALERTS,
]


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    state = hass.states.get(entity_id(hass, platform, unique_id))
    assert state is not None, unique_id
    return state


def codes(model: PanelModel) -> list[int]:
    return [request.code for request in model.requests]


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(r.levelno == logging.WARNING and text in r.message for r in caplog.records)


async def refresh(hass: HomeAssistant) -> None:
    """Let REFRESH_INTERVAL pass: the panel is read again."""
    async_fire_time_changed(hass, dt_util.utcnow() + REFRESH_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)


# --- at connect ----------------------------------------------------------------------


async def test_the_panel_is_read_at_connect(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    entry_id = init_integration.entry_id
    async with connected_panel(hass, port) as panel:
        # One read after the other, each of a list's pages asked in turn.
        assert codes(panel.model) == READS
        # The state, before any report.
        alarm = state_of(hass, "alarm_control_panel", f"{GUID}_alarm")
        assert alarm.state == AlarmControlPanelState.DISARMED

        device = panel_device(hass, entry_id)
        assert device.model == "TSV018-C3SIA"
        assert device.hw_version == "MCU 206, WiFi 206"
        assert device.sw_version == "207"

        # Battery and WiFi are never unknown while the panel is connected.
        assert state_of(hass, "binary_sensor", f"{GUID}_wifi").state == STATE_ON
        assert state_of(hass, "binary_sensor", f"{GUID}_battery").state == STATE_OFF
        expected = {
            "battery_voltage": ("4242", "mV"),
            "wifi_status": ("working", None),
            "wifi_signal": ("100", "%"),
            "gsm_status": ("working", None),
            "gsm_signal": ("50", "%"),
        }
        registry = er.async_get(hass)
        for key, (value, unit) in expected.items():
            state = state_of(hass, "sensor", f"{GUID}_{key}")
            assert state.state == value, key
            assert state.attributes.get("unit_of_measurement") == unit
            entry = registry.async_get(state.entity_id)
            assert entry.entity_category is EntityCategory.DIAGNOSTIC
        assert (
            state_of(hass, "sensor", f"{GUID}_battery_voltage").attributes["device_class"]
            == "voltage"
        )

        # Every zone at once, with its name and kind.
        zones = {
            1: ("Front door", "Door/window sensor", "door"),
            2: ("Hall motion", "Motion sensor", "motion"),
            12: ("Cord 1", "Door/window sensor", None),  # wired door (126/1), disabled
        }
        for index, (name, model, device_class) in zones.items():
            zone = zone_device(hass, entry_id, index)
            assert zone is not None
            assert (zone.name, zone.model) == (name, model)
            if device_class is not None:
                sensor = state_of(hass, "binary_sensor", f"{GUID}_zone_{index}")
                assert sensor.attributes["device_class"] == device_class
                assert sensor.state == STATE_OFF
        assert zone_device(hass, entry_id, 10).model == "Remote control"
        assert state_of(hass, "event", f"{GUID}_zone_10_buttons")
        assert zone_device(hass, entry_id, 11).model == "RFID keypad"

        # Cord 1's "enabled" flag is off: a disabled device, its entities disabled.
        cord = zone_device(hass, entry_id, 12)
        assert cord.disabled_by is dr.DeviceEntryDisabler.INTEGRATION
        cord_sensor = registry.async_get_entity_id("binary_sensor", "g90_cloud", f"{GUID}_zone_12")
        assert registry.async_get(cord_sensor).disabled
        assert hass.states.get(cord_sensor) is None


async def test_zone_numbers_are_the_records_index(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """The number events carry is the record's index, not its place in the list."""
    sensors = [
        DeviceRecord("Garage", 7, peripheral_type=1, user_flags=1),
        DeviceRecord("Smoke", 3, peripheral_type=126, subtype=4, user_flags=1, protocol=5),
        DeviceRecord("Beam", 21, peripheral_type=126, subtype=9, user_flags=1, protocol=5),
        DeviceRecord("Cord", 22, peripheral_type=126, subtype=0, user_flags=1, protocol=5),
        DeviceRecord("Gadget", 23, peripheral_type=16, user_flags=1),
    ]
    entry_id = init_integration.entry_id
    async with connected_panel(hass, port, model=PanelModel(sensors=sensors)) as panel:
        assert zone_device(hass, entry_id, 1) is None
        assert zone_device(hass, entry_id, 2) is None
        classes = {7: "door", 3: "smoke", 21: "motion", 22: "safety", 23: None}
        for index, device_class in classes.items():
            sensor = state_of(hass, "binary_sensor", f"{GUID}_zone_{index}")
            assert sensor.attributes.get("device_class") == device_class, index
        # The zone the panel's events name is the listed one.
        await send(hass, panel, activity(7, "Garage", AlertSource.SENSOR, 1))
        assert state_of(hass, "binary_sensor", f"{GUID}_zone_7").state == STATE_ON


# --- followed ------------------------------------------------------------------------


async def test_renames_additions_and_deletions_are_followed(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    entry_id = init_integration.entry_id
    model = PanelModel()
    async with connected_panel(hass, port, model=model) as panel:
        await send(hass, panel, activity(30, "Only in events", AlertSource.SENSOR, 1))
        hall = zone_device(hass, entry_id, 2)
        assert hall is not None

        # Renamed and deleted on the panel, which says so: read again at once.
        front, _hall, *rest = DEMO_SENSORS
        added = DeviceRecord("Back door", 5, peripheral_type=1, user_flags=1)
        model.sensors = [replace(front, name="Main door"), *rest, added]
        await send(hass, panel, notification([170, [4, [1, "Main door", 2]]]))
        await hass.async_block_till_done(wait_background_tasks=True)

        assert zone_device(hass, entry_id, 1).name == "Main door"
        assert state_of(hass, "binary_sensor", f"{GUID}_zone_1").name == "Main door"
        assert zone_device(hass, entry_id, 2) is None
        assert dr.async_get(hass).async_get(hall.id) is None
        registry = er.async_get(hass)
        assert registry.async_get_entity_id("binary_sensor", "g90_cloud", f"{GUID}_zone_2") is None
        assert 2 not in init_integration.runtime_data.panels[GUID].zones
        assert zone_device(hass, entry_id, 5).name == "Back door"
        # A zone known from events alone is left alone.
        assert zone_device(hass, entry_id, 30) is not None


async def test_a_sensor_of_another_kind(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """The panel's list says what sits in a zone, over what its events suggested."""
    model = PanelModel()
    async with connected_panel(hass, port, model=model) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        front, *rest = DEMO_SENSORS
        model.sensors = [replace(front, peripheral_type=4), *rest]  # now a smoke detector
        await refresh(hass)
        sensor = state_of(hass, "binary_sensor", f"{GUID}_zone_1")
        assert sensor.attributes["device_class"] == "smoke"
        assert zone_device(hass, init_integration.entry_id, 1).model == "Smoke detector"
        assert zone_device(hass, init_integration.entry_id, 1).name == "Front door"


async def test_sensors_enabled_and_disabled_on_the_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    entry_id = init_integration.entry_id
    model = PanelModel()
    async with connected_panel(hass, port, model=model) as panel:
        assert zone_device(hass, entry_id, 1).disabled_by is None
        front, *rest = DEMO_SENSORS
        model.sensors = [replace(front, user_flags=front.user_flags & ~1), *rest]
        await refresh(hass)
        assert zone_device(hass, entry_id, 1).disabled_by is dr.DeviceEntryDisabler.INTEGRATION
        model.sensors = list(DEMO_SENSORS)
        await refresh(hass)
        assert zone_device(hass, entry_id, 1).disabled_by is None

        # A device the user disabled stays disabled.
        cord = zone_device(hass, entry_id, 12)
        dr.async_get(hass).async_update_device(cord.id, disabled_by=dr.DeviceEntryDisabler.USER)
        model.sensors = [*DEMO_SENSORS[:4], replace(DEMO_SENSORS[4], user_flags=33)]
        await refresh(hass)
        assert zone_device(hass, entry_id, 12).disabled_by is dr.DeviceEntryDisabler.USER
        assert panel.result.problems == []


async def test_the_refresh_interval(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Every ten minutes, the five reads again, one at a time; the state follows the panel."""
    assert timedelta(minutes=10) == REFRESH_INTERVAL
    async with connected_panel(hass, port) as panel:
        panel.model.state = ArmState.ARMED_HOME  # armed on the keypad; the report was lost
        panel.model.info = replace(DEMO_INFO, battery_voltage="3900", wifi_signal=40)
        await refresh(hass)
        assert codes(panel.model) == READS * 2
        alarm = state_of(hass, "alarm_control_panel", f"{GUID}_alarm")
        assert alarm.state == AlarmControlPanelState.ARMED_HOME
        assert state_of(hass, "sensor", f"{GUID}_battery_voltage").state == "3900"
        assert state_of(hass, "sensor", f"{GUID}_wifi_signal").state == "40"
    await hass.async_block_till_done()
    # A panel that is gone is not asked.
    await refresh(hass)
    assert codes(panel.model) == READS * 2


async def test_a_failing_read_breaks_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A read the panel refuses is logged once, and the others go on; tried again next time."""
    model = PanelModel()
    refusing_info = [Quirk(), Quirk(refuse=True)]  # 100 answered, 206 refused
    model.quirks.extend(refusing_info)
    async with connected_panel(hass, port, model=model):
        assert codes(model) == READS
        assert state_of(hass, "sensor", f"{GUID}_battery_voltage").state == "unknown"
        assert zone_device(hass, init_integration.entry_id, 1) is not None  # the lists were read
        warnings = [
            r for r in caplog.records if r.levelno == logging.WARNING and "206" in r.message
        ]
        assert len(warnings) == 1
        model.quirks.extend(refusing_info)
        await refresh(hass)
        warnings = [
            r for r in caplog.records if r.levelno == logging.WARNING and "206" in r.message
        ]
        assert len(warnings) == 1  # not again
        await refresh(hass)  # it answers again
        assert state_of(hass, "sensor", f"{GUID}_battery_voltage").state == "4242"
        assert "answers command 206 again" in caplog.text


async def test_a_silent_panel_is_left_until_the_next_refresh(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.g90_cloud.hub.COMMAND_TIMEOUT", timedelta(seconds=0.2))
    monkeypatch.setattr("custom_components.g90_cloud.control.CONNECTION_SHARE", 0.1)
    model = PanelModel()
    model.quirk = Quirk(silent=True)
    async with connected_panel(hass, port, model=model):
        # The first read got no answer: the rest were not sent.
        assert codes(model) == [CommandCode.GET_HOST_STATUS]
        state = state_of(hass, "alarm_control_panel", f"{GUID}_alarm")
        assert state.state == "unknown"
        model.quirk = Quirk()
        await refresh(hass)
        assert codes(model) == [CommandCode.GET_HOST_STATUS, *READS]
        state = state_of(hass, "alarm_control_panel", f"{GUID}_alarm")
        assert state.state == AlarmControlPanelState.DISARMED


async def test_a_panel_with_another_info(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """A GSM panel without WiFi; a battery voltage that is no number."""
    info = HostInfo("", "G90B", "1.2", "1.1", "", "", 3, 0, 1, 0, "n/a", 80, 0)
    async with connected_panel(hass, port, model=PanelModel(info, relays=())):
        assert state_of(hass, "binary_sensor", f"{GUID}_wifi").state == STATE_OFF
        assert state_of(hass, "sensor", f"{GUID}_wifi_status").state == "off"
        assert state_of(hass, "sensor", f"{GUID}_battery_voltage").state == "unknown"
        device = panel_device(hass, init_integration.entry_id)
        assert device.model == "G90B"
        assert device.hw_version is None  # neither its status nor its info told
    assert not any(
        identifier.startswith(f"{GUID}_relay_")
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), init_integration.entry_id
        )
        for _domain, identifier in device.identifiers
    )
    assert DEMO_RELAYS  # the demo has relays; this panel none


async def test_arming_goes_before_a_slow_read_which_is_made_again_after(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A person arming does not wait for the picture being read (a busy panel may take
    its whole 30 s): the read under way is given up, the arming sent, and the picture
    read again, whole, after it."""
    async with connected_panel(hass, port) as panel:
        panel.model.requests.clear()
        panel.model.quirks.append(Quirk(delay=2.0))  # the refresh's first read: slow
        async_fire_time_changed(hass, dt_util.utcnow() + REFRESH_INTERVAL)
        await until(lambda: codes(panel.model) == [CommandCode.GET_HOST_STATUS])
        alarm = entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")
        started = asyncio.get_running_loop().time()
        await hass.services.async_call(
            "alarm_control_panel", "alarm_arm_away", {"entity_id": alarm}, blocking=True
        )
        assert asyncio.get_running_loop().time() - started < 1.5
        await hass.async_block_till_done(wait_background_tasks=True)
        assert codes(panel.model) == [
            CommandCode.GET_HOST_STATUS,  # given up
            CommandCode.SET_HOST_STATUS,
            *READS,
        ]
        assert state_of(hass, "alarm_control_panel", f"{GUID}_alarm").state == (
            AlarmControlPanelState.ARMED_AWAY
        )
    # A read given up for a person's command is no failure of the panel's.
    assert warnings_about(caplog, "did not answer command") == 0
