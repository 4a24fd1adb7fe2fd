"""Devices and entities, as a panel's frames arrive over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.alarm_control_panel import AlarmControlPanelState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.g90_cloud import PLATFORMS
from custom_components.g90_cloud.const import ACTIVITY_CLEARS_AFTER, DOMAIN
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.panel_model import DEMO_SENSORS, PanelModel
from custom_components.g90_cloud.g90.scenarios import SCENARIOS, Pause

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
    notification,
    panel_device,
    panel_state,
    send,
    wait_for,
    zone_device,
)

OTHER_GUID = "GB00000B0000000"


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    state = hass.states.get(entity_id(hass, platform, unique_id))
    assert state is not None
    return state


def zone_state(hass: HomeAssistant, index: int, problem: str = "") -> State:
    suffix = f"_{problem}" if problem else ""
    return state_of(hass, "binary_sensor", f"{GUID}_zone_{index}{suffix}")


def alarm_state(hass: HomeAssistant) -> str:
    return state_of(hass, "alarm_control_panel", f"{GUID}_alarm").state


def later(seconds: float) -> datetime:
    return dt_util.utcnow() + timedelta(seconds=seconds)


async def run_demo(hass: HomeAssistant, port: int) -> None:
    result = await simulate(HOST, port, SCENARIOS["demo"], speed=1000)
    assert result.problems == []
    # The listener has seen the panel hang up.
    await wait_for(hass, lambda: panel_sensor(hass, "connected").state == STATE_OFF)


# --- devices -----------------------------------------------------------------------


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # devices from reports alone
async def test_devices_after_demo(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    await run_demo(hass, port)
    entry_id = init_integration.entry_id
    panel = panel_device(hass, entry_id)
    assert panel.identifiers == {(DOMAIN, GUID)}
    assert panel.manufacturer == "G90 family"
    assert panel.model == "G90 alarm panel"
    assert panel.sw_version == "207"
    assert panel.serial_number == GUID
    assert panel.name == f"G90 panel {GUID}"
    assert panel.via_device_id is None

    zones = {
        1: ("Front door", "Door/window sensor"),
        2: ("Hall motion", "Motion sensor"),
        10: ("Keyfob", "Remote control"),
        11: ("Keypad", "RFID keypad"),
    }
    for index, (name, model) in zones.items():
        device = zone_device(hass, entry_id, index)
        assert device is not None, index
        assert device.name == name
        assert device.model == model
        assert device.manufacturer == "G90 family"
        assert device.via_device_id == panel.id
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
    assert len(devices) == 1 + len(zones)


async def test_firmware_follows_the_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        pass
    assert panel_device(hass, init_integration.entry_id).sw_version == "207"
    async with connected_panel(hass, port, firmware="208"):
        pass
    assert panel_device(hass, init_integration.entry_id).sw_version == "208"


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # reports alone
async def test_two_panels_two_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with (
        connected_panel(hass, port) as first,
        connected_panel(hass, port, guid=OTHER_GUID) as second,
    ):
        await send(hass, first, panel_state("armed_away"))
        await send(hass, second, activity(1, "Back door", AlertSource.SENSOR, 1))
        first_id = entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")
        second_id = entity_id(hass, "alarm_control_panel", f"{OTHER_GUID}_alarm")
        assert hass.states.get(first_id).state == AlarmControlPanelState.ARMED_AWAY
        assert hass.states.get(second_id).state == STATE_UNKNOWN
        # Zone 1 exists on the second panel only.
        assert zone_device(hass, init_integration.entry_id, 1) is None
        door = zone_device(hass, init_integration.entry_id, 1, guid=OTHER_GUID)
        assert door is not None
        other = panel_device(hass, init_integration.entry_id, OTHER_GUID)
        assert door.via_device_id == other.id


DEMO_TIME = "2025-01-25 08:34:40+00:00"
"""The demo runs at this frozen time, so event and packet times in the snapshots hold still."""


@pytest.mark.freeze_time(DEMO_TIME)
@pytest.mark.usefixtures("freezer")  # set up before the integration
@pytest.mark.parametrize(
    "platforms", [pytest.param([platform], id=str(platform)) for platform in PLATFORMS]
)
async def test_entities_after_demo_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every entity of each platform, and its state, after the demo scenario."""
    # The demo's steps without its pauses: frozen time fires no timers.
    steps = [step for step in SCENARIOS["demo"] if not isinstance(step, Pause)]
    # Every sensor enabled: snapshot_platform wants every entity enabled.
    model = PanelModel(sensors=[replace(s, user_flags=s.user_flags | 1) for s in DEMO_SENSORS])
    async with connected_panel(hass, port, model=model) as panel:
        await panel.play(steps)
        await hass.async_block_till_done()
        assert panel.result.problems == []
    listener = init_integration.runtime_data.listener
    await settle(lambda: not listener.connections)  # the listener has seen it hang up
    await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


# --- alarm panel -------------------------------------------------------------------


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # reports alone
async def test_alarm_panel_follows_the_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        assert alarm_state(hass) == STATE_UNKNOWN
        state = state_of(hass, "alarm_control_panel", f"{GUID}_alarm")
        assert state.attributes["supported_features"] == 0
        assert state.attributes["code_arm_required"] is False
        assert state.name == f"G90 panel {GUID}"

        steps = [
            (panel_state("armed_home"), AlarmControlPanelState.ARMED_HOME),
            (panel_state("armed_away"), AlarmControlPanelState.ARMED_AWAY),
            (panel_state("disarmed"), AlarmControlPanelState.DISARMED),
            (alarm(1, "Door", PeripheralType.DOOR), AlarmControlPanelState.TRIGGERED),
            (panel_state("disarmed"), AlarmControlPanelState.DISARMED),
            (alarm(10, "Keyfob", PeripheralType.REMOTE, 3), AlarmControlPanelState.TRIGGERED),
            (notification([170, [1, [3]]]), AlarmControlPanelState.DISARMED),
            (notification([170, [1, [2]]]), AlarmControlPanelState.ARMED_HOME),
            (notification([170, [1, [4]]]), AlarmControlPanelState.TRIGGERED),
            (notification([170, [1, [1]]]), AlarmControlPanelState.ARMED_AWAY),
            (alarm(5, "Panic", PeripheralType.SOS_BUTTON), AlarmControlPanelState.TRIGGERED),
            (notification([170, [1, [3]]]), AlarmControlPanelState.DISARMED),
            # Things that are not the panel's state leave it alone.
            (activity(1, "Door", AlertSource.SENSOR, 1), AlarmControlPanelState.DISARMED),
            (panel_state("ac_power_failure"), AlarmControlPanelState.DISARMED),
        ]
        for frame, expected in steps:
            await send(hass, panel, frame)
            assert alarm_state(hass) == expected, frame.hex(" ")


# --- zone sensors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (activity(3, "Zone", AlertSource.SENSOR, 1), ("door", STATE_ON)),
        (activity(3, "Zone", AlertSource.SENSOR, 0), ("door", STATE_OFF)),
        (activity(3, "Zone", AlertSource.INFRARED, 0), ("motion", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.DOOR), ("door", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.SMOKE), ("smoke", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.GAS), ("gas", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.GAS_VALVE), ("gas", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.WATER), ("moisture", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.VIBRATION), ("vibration", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.GLASS_BREAK), ("safety", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.SOS_BUTTON), ("safety", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.WATCH), ("safety", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.INFRARED), ("motion", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.INFRARED_BEAM), ("motion", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.WIRED_ZONE), ("safety", STATE_ON)),
        (alarm(3, "Zone", PeripheralType.WIRED_DEVICE), ("safety", STATE_ON)),
        # Nothing tells what sits in the zone.
        (activity(3, "Zone", AlertSource.SENSOR, 254), (None, STATE_ON)),
        (activity(3, "Zone", AlertSource.PANEL, 77), (None, STATE_ON)),
        (alarm(3, "Zone", PeripheralType.UNKNOWN), (None, STATE_ON)),
        (activity(3, "Zone", AlertSource.SENSOR, 3), (None, STATE_OFF)),
        (notification([170, [5, [3, "Zone"]]]), (None, STATE_ON)),
        (notification([170, [6, [3, "Zone"]]]), ("door", STATE_ON)),
        (notification([170, [4, [3, "Zone", 1]]]), (None, STATE_OFF)),
    ],
)
async def test_zone_sensor_kind(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    frame: bytes,
    expected: tuple[str | None, str],
) -> None:
    device_class, state = expected
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, frame)
        sensor = zone_state(hass, 3)
        assert sensor.attributes.get("device_class") == device_class
        assert sensor.state == state
        assert sensor.attributes["zone_index"] == 3
        assert sensor.name == "Zone"
        registry_entry = er.async_get(hass).async_get(sensor.entity_id)
        assert registry_entry is not None
        assert registry_entry.entity_category is None
        device = zone_device(hass, init_integration.entry_id, 3)
        assert device is not None
        assert registry_entry.device_id == device.id


async def test_zone_kind_becomes_known(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(4, "Porch", AlertSource.SENSOR, 4))  # low battery
        assert zone_state(hass, 4).attributes.get("device_class") is None
        assert zone_device(hass, init_integration.entry_id, 4).model == "Sensor"
        await send(hass, panel, activity(4, "Porch", AlertSource.SENSOR, 1))
        assert zone_state(hass, 4).attributes["device_class"] == "door"
        assert zone_device(hass, init_integration.entry_id, 4).model == "Door/window sensor"
        # An alarm's peripheral type is authoritative.
        await send(hass, panel, alarm(4, "Porch", PeripheralType.VIBRATION))
        assert zone_state(hass, 4).attributes["device_class"] == "vibration"
        # What an event merely implies does not overrule a known kind.
        await send(hass, panel, activity(4, "Porch", AlertSource.SENSOR, 0))
        assert zone_state(hass, 4).attributes["device_class"] == "vibration"
        # "Wired" is generic: a better guess replaces it, but not the other way round.
        await send(hass, panel, alarm(6, "Cord", PeripheralType.WIRED_ZONE, 3))
        assert zone_state(hass, 6).attributes["device_class"] == "safety"
        await send(hass, panel, activity(6, "Cord", AlertSource.INFRARED, 0))
        assert zone_state(hass, 6).attributes["device_class"] == "motion"
        await send(hass, panel, alarm(6, "Cord", PeripheralType.WIRED_ZONE))
        assert zone_state(hass, 6).attributes["device_class"] == "motion"


async def test_door_follows_open_and_close(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        assert zone_state(hass, 1).state == STATE_ON
        # A door reports its closing: time alone does not close it.
        async_fire_time_changed(hass, later(ACTIVITY_CLEARS_AFTER.total_seconds() * 3))
        await hass.async_block_till_done()
        assert zone_state(hass, 1).state == STATE_ON
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 0))
        assert zone_state(hass, 1).state == STATE_OFF
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        assert zone_state(hass, 1).state == STATE_ON


@pytest.mark.parametrize(
    "frame",
    [
        activity(2, "Hall motion", AlertSource.INFRARED, 0),
        notification([170, [5, [2, "Hall motion"]]]),
        activity(2, "Hall motion", AlertSource.FINGERPRINT, 9),
    ],
)
async def test_activity_clears_after_a_while(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, frame: bytes
) -> None:
    clears_after = ACTIVITY_CLEARS_AFTER.total_seconds()
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, frame)
        assert zone_state(hass, 2).state == STATE_ON
        async_fire_time_changed(hass, later(clears_after - 5))
        await hass.async_block_till_done()
        assert zone_state(hass, 2).state == STATE_ON
        async_fire_time_changed(hass, later(clears_after + 1))
        await hass.async_block_till_done()
        assert zone_state(hass, 2).state == STATE_OFF
        # Activity again: on again, and off again.
        await send(hass, panel, frame)
        assert zone_state(hass, 2).state == STATE_ON
        async_fire_time_changed(hass, later(clears_after + 1))
        await hass.async_block_till_done()
        assert zone_state(hass, 2).state == STATE_OFF


async def test_alarm_holds_activity_until_disarmed(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(2, "Hall motion", AlertSource.INFRARED, 0),
            alarm(2, "Hall motion", PeripheralType.INFRARED),
            activity(2, "Hall motion", AlertSource.INFRARED, 0),
        )
        async_fire_time_changed(hass, later(ACTIVITY_CLEARS_AFTER.total_seconds() * 2))
        await hass.async_block_till_done()
        assert zone_state(hass, 2).state == STATE_ON
        await send(hass, panel, panel_state("disarmed"))
        assert zone_state(hass, 2).state == STATE_OFF


async def test_door_alarm_resets_on_disarm_or_close(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, alarm(1, "Front door", PeripheralType.DOOR))
        assert zone_state(hass, 1).state == STATE_ON
        await send(hass, panel, notification([170, [1, [3]]]))
        assert zone_state(hass, 1).state == STATE_OFF
        await send(hass, panel, alarm(1, "Front door", PeripheralType.DOOR))
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 0))
        assert zone_state(hass, 1).state == STATE_OFF


async def test_a_door_still_open_when_the_alarm_ends_shows_open(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Disarming ends the alarm, not the door's being open: it shows open until it closes."""
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            alarm(1, "Front door", PeripheralType.DOOR),
        )
        assert zone_state(hass, 1).state == STATE_ON
        await send(hass, panel, panel_state("disarmed"))
        assert zone_state(hass, 1).state == STATE_ON  # still open
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 0))
        assert zone_state(hass, 1).state == STATE_OFF


async def test_zone_renamed_on_the_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        assert zone_state(hass, 1).name == "Front door"
        await send(hass, panel, activity(1, "Main entrance", AlertSource.SENSOR, 0))
        device = zone_device(hass, init_integration.entry_id, 1)
        assert device is not None
        assert device.name == "Main entrance"
        assert zone_state(hass, 1).name == "Main entrance"
        assert zone_state(hass, 1, "tamper").name == "Main entrance Tamper"
        # A frame without a name keeps the one known.
        await send(hass, panel, notification([170, [5, [1]]]))
        assert zone_device(hass, init_integration.entry_id, 1).name == "Main entrance"


async def test_unnamed_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(7, "", AlertSource.SENSOR, 1))
        assert zone_device(hass, init_integration.entry_id, 7).name == "Zone 7"
        assert zone_state(hass, 7).name == "Zone 7"


async def test_tamper_and_battery_until_disarmed(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    registry = er.async_get(hass)
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            activity(2, "Hall motion", AlertSource.INFRARED, 0),
        )
        problems = [(1, "tamper"), (1, "low_battery"), (2, "tamper"), (2, "low_battery")]
        for index, problem in problems:
            state = zone_state(hass, index, problem)
            assert state.state == STATE_OFF
            expected_class = "tamper" if problem == "tamper" else "battery"
            assert state.attributes["device_class"] == expected_class
            entry = registry.async_get(state.entity_id)
            assert entry.entity_category is EntityCategory.DIAGNOSTIC
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 3),
            activity(1, "Front door", AlertSource.SENSOR, 4),
            activity(2, "Hall motion", AlertSource.INFRARED, 1),
            activity(2, "Hall motion", AlertSource.INFRARED, 2),
        )
        for index, problem in problems:
            assert zone_state(hass, index, problem).state == STATE_ON, (index, problem)
        # The door is still open: tamper and battery reports do not close it.
        assert zone_state(hass, 1).state == STATE_ON
        await send(hass, panel, panel_state("armed_away"))
        assert zone_state(hass, 1, "tamper").state == STATE_ON
        await send(hass, panel, panel_state("disarmed"))
        for index, problem in problems:
            assert zone_state(hass, index, problem).state == STATE_OFF, (index, problem)
        assert zone_state(hass, 1).state == STATE_ON  # still open


async def test_tamper_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, alarm(8, "Window", PeripheralType.DOOR, 3))
        assert zone_state(hass, 8, "tamper").state == STATE_ON
        assert zone_state(hass, 8).state == STATE_OFF
        await send(hass, panel, notification([170, [1, [3]]]))
        assert zone_state(hass, 8, "tamper").state == STATE_OFF


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # reports alone
async def test_button_zones_have_battery_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
            activity(11, "Keypad", AlertSource.RFID, 5),  # the keypad's battery is low
            activity(12, "Bell", AlertSource.DOORBELL, 0),
        )
        registry = er.async_get(hass)
        for index in (10, 11, 12):
            assert (
                registry.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_zone_{index}")
                is None
            )
            assert (
                registry.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_zone_{index}_tamper")
                is None
            )
        assert zone_state(hass, 10, "low_battery").state == STATE_OFF
        assert zone_state(hass, 11, "low_battery").state == STATE_ON
        assert zone_state(hass, 12, "low_battery").state == STATE_OFF
        # An SOS from a remote is no zone alarm: the remote has no sensor to latch.
        await send(hass, panel, alarm(10, "Keyfob", PeripheralType.REMOTE, 3))
        await send(hass, panel, panel_state("disarmed"))
        assert zone_state(hass, 11, "low_battery").state == STATE_OFF


# --- panel health ------------------------------------------------------------------


def panel_sensor(hass: HomeAssistant, key: str) -> State:
    return state_of(hass, "binary_sensor", f"{GUID}_{key}")


async def test_panel_connected(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        state = panel_sensor(hass, "connected")
        assert state.state == STATE_ON
        assert state.attributes["device_class"] == "connectivity"
        entry = er.async_get(hass).async_get(state.entity_id)
        assert entry.entity_category is EntityCategory.DIAGNOSTIC
    await wait_for(hass, lambda: panel_sensor(hass, "connected").state == STATE_OFF)
    async with connected_panel(hass, port):
        assert panel_sensor(hass, "connected").state == STATE_ON


async def settle(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition()` holds; no timers, so frozen time is fine."""
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_reconnect_after_a_long_silence(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A panel back after a while shows connected and its new packet time at once."""
    async with connected_panel(hass, port):
        pass
    await settle(lambda: panel_sensor(hass, "connected").state == STATE_OFF)
    freezer.tick(timedelta(minutes=10))
    async with connected_panel(hass, port):
        assert panel_sensor(hass, "connected").state == STATE_ON
        now = dt_util.utcnow().timestamp()
        last = state_of(hass, "sensor", f"{GUID}_last_panel_packet").state
        assert dt_util.parse_datetime(last).timestamp() == int(now)  # the true time, to the second


async def test_silent_panel_is_disconnected(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with connected_panel(hass, port):
        assert panel_sensor(hass, "connected").state == STATE_ON
        # Still connected, but not heard for well over three heartbeats.
        freezer.tick(timedelta(minutes=4))
        async_fire_time_changed(hass)
        await settle(lambda: panel_sensor(hass, "connected").state == STATE_OFF)
        assert init_integration.runtime_data.listener.connections  # the socket is still open


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # reports alone
async def test_panel_health_sensors(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        for key in ("ac_power", "wifi", "battery"):
            assert panel_sensor(hass, key).state == STATE_UNKNOWN
        assert panel_sensor(hass, "ac_power").attributes["device_class"] == "power"
        assert panel_sensor(hass, "wifi").attributes["device_class"] == "connectivity"
        assert panel_sensor(hass, "battery").attributes["device_class"] == "battery"
        steps = [
            ("ac_power_failure", "ac_power", STATE_OFF),
            ("ac_power_restored", "ac_power", STATE_ON),
            ("wifi_disconnected", "wifi", STATE_OFF),
            ("wifi_connected", "wifi", STATE_ON),
            ("panel_low_battery", "battery", STATE_ON),
            ("disarmed", "battery", STATE_OFF),
        ]
        for frame, key, expected in steps:
            await send(hass, panel, panel_state(frame))
            assert panel_sensor(hass, key).state == expected, frame
        registry = er.async_get(hass)
        assert registry.async_get(panel_sensor(hass, "ac_power").entity_id).entity_category is None
        for key in ("wifi", "battery"):
            entry = registry.async_get(panel_sensor(hass, key).entity_id)
            assert entry.entity_category is EntityCategory.DIAGNOSTIC


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # reports alone
async def test_disarm_leaves_unknown_battery_unknown(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, panel_state("disarmed"))
        assert panel_sensor(hass, "battery").state == STATE_UNKNOWN


async def test_last_panel_packet(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    before = dt_util.utcnow()
    async with connected_panel(hass, port):
        state = state_of(hass, "sensor", f"{GUID}_last_panel_packet")
    assert state.attributes["device_class"] == "timestamp"
    assert state.name == f"G90 panel {GUID} Last packet from panel"
    moment = dt_util.parse_datetime(state.state)
    assert moment is not None
    # The true time (a timestamp state shows whole seconds), not rounded to minutes.
    assert before.replace(microsecond=0) <= moment <= dt_util.utcnow()
    registry = er.async_get(hass)
    assert registry.async_get(state.entity_id).entity_category is EntityCategory.DIAGNOSTIC


async def test_last_packet_is_written_at_most_once_a_minute(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A panel heard every half second: the sensor moves once a minute, to a true packet time."""
    unique_id = f"{GUID}_last_panel_packet"
    async with connected_panel(hass, port) as panel:
        written: list[str] = []
        target = entity_id(hass, "sensor", unique_id)

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            if event.data["entity_id"] == target and event.data["new_state"] is not None:
                written.append(event.data["new_state"].state)

        hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
        for _ in range(240):  # two minutes
            freezer.tick(timedelta(seconds=0.5))
            await send(hass, panel)  # a ping
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
        last_ping = dt_util.utcnow()
        assert 2 <= len(written) <= 3
        shown = [dt_util.parse_datetime(value) for value in written]
        assert all(moment is not None for moment in shown)
        # A minute apart, not rounded to any step.
        assert shown[1] - shown[0] >= timedelta(seconds=59)
        # At the end of the minute, the latest.
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        moment = dt_util.parse_datetime(state_of(hass, "sensor", unique_id).state)
        assert moment == last_ping.replace(microsecond=0)


async def test_no_upstream_entities_without_chaining(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        pass
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_upstream") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{GUID}_last_upstream_packet") is None
    # The other panel entities are there.
    assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{GUID}_connected")


async def test_upstream_entities_when_chaining(
    hass: HomeAssistant, chained_entry: MockConfigEntry, fake_cloud: FakeCloud
) -> None:
    port = int(chained_entry.data["local_port"])
    async with connected_panel(hass, port) as panel:
        await wait_for(hass, lambda: fake_cloud.connections == 1)
        await send(hass, panel, panel_state("armed_home"))
        await wait_for(
            hass,
            lambda: state_of(hass, "binary_sensor", f"{GUID}_upstream").state == STATE_ON,
        )
        upstream = state_of(hass, "binary_sensor", f"{GUID}_upstream")
        assert upstream.name == f"G90 panel {GUID} Vendor cloud connected"
        assert upstream.attributes["device_class"] == "connectivity"
        # The panel's frames reach the cloud, and the cloud's answers reach the panel.
        await wait_for(hass, lambda: len(fake_cloud.received) >= 2)
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME
        await send(hass, panel)  # a ping the cloud answers
        last = state_of(hass, "sensor", f"{GUID}_last_upstream_packet")
        assert last.attributes["device_class"] == "timestamp"
        assert dt_util.parse_datetime(last.state) is not None

        fake_cloud.drop()
        await wait_for(
            hass,
            lambda: state_of(hass, "binary_sensor", f"{GUID}_upstream").state == STATE_OFF,
        )
    await wait_for(hass, lambda: panel_sensor(hass, "connected").state == STATE_OFF)
    assert state_of(hass, "binary_sensor", f"{GUID}_upstream").state == STATE_OFF


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])
async def test_disarm_when_listening_only_says_so(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Home Assistant always offers disarm; with commands off it says why it cannot."""
    async with connected_panel(hass, port) as panel:
        alarm_id = entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                "alarm_control_panel", "alarm_disarm", {"entity_id": alarm_id}, blocking=True
            )
        assert raised.value.translation_key == "control_off"
        assert "control channel is off" in str(raised.value)
        assert panel.result.commands == []  # not even the refresh


async def test_entities_no_longer_provided_are_removed_when_the_options_change(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Listen only: the alert and relay switches and the sensors read from the panel go
    from the registry (not left as restored, unavailable entities); back on, they return."""
    entry = init_integration
    registry = er.async_get(hass)

    def ours() -> set[str]:
        return {e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}

    async with connected_panel(hass, port):
        pass
    read_from_the_panel = {
        f"{GUID}_alert_door_close",
        f"{GUID}_relay_10_0",
        f"{GUID}_battery_voltage",
        f"{GUID}_wifi_signal",
    }
    with_control = ours()
    assert read_from_the_panel <= with_control
    kept = {f"{GUID}_alarm", f"{GUID}_connected", f"{GUID}_zone_1", f"{GUID}_zone_1_tamper"}
    assert kept <= with_control

    hass.config_entries.async_update_entry(entry, options=LISTEN_ONLY)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    listening = ours()
    assert not {uid for uid in listening if "_alert_" in uid or "_relay_" in uid}
    assert not read_from_the_panel & listening
    assert kept <= listening  # the alarm panel stays, with no arming offered
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        assert hass.states.get(entity.entity_id) is not None or entity.disabled

    hass.config_entries.async_update_entry(entry, options={})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    async with connected_panel(hass, port):
        pass
    assert read_from_the_panel <= ours()
