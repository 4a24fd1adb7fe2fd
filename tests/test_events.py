"""Bus events and event entities, from frames sent over a real socket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, State, callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.g90_cloud.const import EVENT_G90
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS

from .common import (
    GUID,
    HOST,
    LISTEN_ONLY,
    AlertSource,
    PeripheralType,
    activity,
    alarm,
    basic,
    connected_panel,
    entity_id,
    notification,
    panel_device,
    panel_state,
    send,
    wait_for,
    zone_device,
)
from .g90.samples import HELLO

WHEN = int(time.time()) - 3600
WHEN_TEXT = datetime.fromtimestamp(WHEN, UTC).isoformat()


@pytest.mark.parametrize(
    ("frame", "fields"),
    [
        (
            activity(1, "Front door", AlertSource.SENSOR, 1, WHEN),
            {"type": "door_open", "zone_index": 1, "zone_name": "Front door", "source": 1},
        ),
        (
            activity(1, "Front door", AlertSource.SENSOR, 0, WHEN),
            {"type": "door_close", "zone_index": 1, "zone_name": "Front door", "source": 1},
        ),
        (
            activity(2, "Hall", AlertSource.INFRARED, 0, WHEN),
            {"type": "motion", "zone_index": 2, "zone_name": "Hall", "source": 8},
        ),
        (
            activity(1, "Front door", AlertSource.SENSOR, 4, WHEN),
            {"type": "low_battery", "zone_index": 1, "zone_name": "Front door", "source": 1},
        ),
        (
            activity(1, "Front door", AlertSource.SENSOR, 3, WHEN),
            {"type": "tamper", "zone_index": 1, "zone_name": "Front door", "source": 1},
        ),
        (
            activity(1, "Front door", AlertSource.SENSOR, 254, WHEN),
            {
                "type": "alarm",
                "zone_index": 1,
                "zone_name": "Front door",
                "source": 1,
                "tamper": False,
            },
        ),
        (
            activity(10, "Keyfob", AlertSource.REMOTE, 1, WHEN),
            {
                "type": "remote_button",
                "zone_index": 10,
                "zone_name": "Keyfob",
                "source": 10,
                "button": "arm_home",
            },
        ),
        (
            activity(11, "Keypad", AlertSource.RFID, 6, WHEN),
            {
                "type": "rfid",
                "zone_index": 11,
                "zone_name": "Keypad",
                "source": 11,
                "action": "card_0",
            },
        ),
        (
            activity(12, "Bell", AlertSource.DOORBELL, 0, WHEN),
            {"type": "doorbell", "zone_index": 12, "zone_name": "Bell", "source": 12},
        ),
        (
            activity(13, "Lock", AlertSource.FINGERPRINT, 9, WHEN),
            {"type": "sensor_activity", "zone_index": 13, "zone_name": "Lock", "source": 15},
        ),
        (
            panel_state("armed_away", WHEN),
            {"type": "armed_away"},
        ),
        (
            panel_state("wifi_disconnected", WHEN),
            {"type": "wifi_disconnected"},
        ),
    ],
)
async def test_bus_event_fields_with_panel_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    frame: bytes,
    fields: dict[str, Any],
) -> None:
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, frame)
    device = panel_device(hass, init_integration.entry_id)
    (event,) = events
    state = frame[15]  # the alert state (kind 3, 4) or the state change code (kind 2)
    if frame[12] == 2:
        state = frame[13]
    assert event.data == {
        "device_id": device.id,
        "guid": GUID,
        "panel_time": WHEN_TEXT,
        "state": state,
        **fields,
        "repeat": False,
        "replayed": False,
    }


@pytest.mark.parametrize(
    ("frame", "fields"),
    [
        (
            alarm(3, "Window", PeripheralType.DOOR, 3),
            {"type": "alarm", "tamper": True, "peripheral_type": 1, "state": 3},
        ),
        (
            alarm(3, "Window", PeripheralType.SMOKE),
            {"type": "alarm", "tamper": False, "peripheral_type": 4, "state": 1},
        ),
        (
            alarm(3, "Window", PeripheralType.REMOTE, 3),
            {"type": "sos", "tamper": False, "peripheral_type": 10, "state": 3},
        ),
    ],
)
async def test_bus_event_alarm_fields(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    frame: bytes,
    fields: dict[str, Any],
) -> None:
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, frame)
    (event,) = events
    data = dict(event.data)
    assert datetime.fromisoformat(data.pop("panel_time")).tzinfo is not None
    assert data == {
        "device_id": panel_device(hass, init_integration.entry_id).id,
        "guid": GUID,
        "zone_index": 3,
        "zone_name": "Window",
        **fields,
        "repeat": False,
        "replayed": False,
    }


@pytest.mark.parametrize(
    ("frame", "fields"),
    [
        (notification([170, [1, [1]]]), {"type": "armed_away", "state": 1}),
        (notification([170, [1, [2]]]), {"type": "armed_home", "state": 2}),
        (notification([170, [1, [3]]]), {"type": "disarmed", "state": 3}),
        (notification([170, [1, [4]]]), {"type": "alarm_triggered", "state": 4}),
        (notification([170, [8, []]]), {"type": "firmware_updating"}),
        (
            notification([170, [4, [6, "Garage", 1]]]),
            {"type": "sensor_added", "zone_index": 6, "zone_name": "Garage"},
        ),
        (
            notification([170, [4, [6, "Garage", 2]]]),
            {"type": "sensor_changed", "zone_index": 6, "zone_name": "Garage"},
        ),
        (
            notification([170, [5, [101, "Cord 1"]]]),
            {"type": "sensor_activity", "zone_index": 101, "zone_name": "Cord 1"},
        ),
        (
            notification([170, [6, [5, "Back door"]]]),
            {"type": "door_open_when_arming", "zone_index": 5, "zone_name": "Back door"},
        ),
        (
            notification([208, [3, 4, 1, 254, "Hall", GUID, WHEN, 0, 0]]),
            {
                "type": "alarm",
                "zone_index": 4,
                "zone_name": "Hall",
                "source": 1,
                "state": 254,
                "tamper": False,
                "panel_time": WHEN_TEXT,
            },
        ),
        (
            notification([208, [1, 0, 0, 0, "", GUID, WHEN, 0, 0]]),
            {"type": "sos", "source": 0, "state": 0, "panel_time": WHEN_TEXT},
        ),
        (
            notification([999, []]),
            {"type": "unknown", "detail": "unknown notification [999, []]"},
        ),
        (
            basic(0x77, 0x10, 0x20, b"\x01\x02"),
            {"type": "unknown", "detail": "unknown message 0x77 from 0x10 to 0x20"},
        ),
    ],
)
async def test_bus_event_from_notifications(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    frame: bytes,
    fields: dict[str, Any],
) -> None:
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, frame)
    (event,) = events
    assert event.data == {
        "device_id": panel_device(hass, init_integration.entry_id).id,
        "guid": GUID,
        **fields,
        "repeat": False,
        "replayed": False,
    }


async def test_demo_events_in_order(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    events = async_capture_events(hass, EVENT_G90)
    result = await simulate(HOST, port, SCENARIOS["demo"], speed=1000)
    assert result.problems == []
    await hass.async_block_till_done()
    device = panel_device(hass, init_integration.entry_id)
    assert [event.data["type"] for event in events] == [
        "door_open",
        "door_close",
        "motion",
        "remote_button",
        "armed_away",
        "armed_away",
        "door_open",
        "alarm",
        "alarm_triggered",
        "remote_button",
        "sos",
        "rfid",
        "rfid",
        "disarmed",
        "disarmed",
        "ac_power_failure",
        "ac_power_restored",
        "door_close",
    ]
    assert {event.data["device_id"] for event in events} == {device.id}
    assert {event.data["guid"] for event in events} == {GUID}
    assert [event.data.get("button") for event in events if "button" in event.data] == [
        "arm_away",
        "sos",
    ]
    assert [event.data["action"] for event in events if "action" in event.data] == [
        "card_1",
        "disarm",
    ]


async def test_events_before_hello_are_attributed(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Events a panel sends before its hello wait for it, then carry its GUID."""
    events = async_capture_events(hass, EVENT_G90)
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        # A state change, then the hello of the protocol notes' sample panel.
        writer.write(panel_state("armed_home") + HELLO)
        await writer.drain()
        async with asyncio.timeout(5):
            await reader.readexactly(42)  # the cloud's answer to hello
        await wait_for(hass, lambda: len(events) == 1)
    finally:
        writer.close()
        await writer.wait_closed()
    (event,) = events
    assert event.data["type"] == "armed_home"
    assert event.data["guid"] == GUID
    assert event.data["device_id"] == panel_device(hass, init_integration.entry_id).id


async def test_events_of_a_connection_that_never_says_hello(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Nobody to pin them on: still on the bus for automations, without a device."""
    events = async_capture_events(hass, EVENT_G90)
    _reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(activity(1, "Front door", AlertSource.SENSOR, 1) + panel_state("disarmed"))
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await wait_for(hass, lambda: len(events) == 2)
    assert [event.data["type"] for event in events] == ["door_open", "disarmed"]
    for event in events:
        assert event.data["device_id"] is None
        assert event.data["guid"] is None
    assert init_integration.runtime_data.unattributed_events == 2
    assert init_integration.runtime_data.panels == {}


# --- event entities ----------------------------------------------------------------


def event_state(hass: HomeAssistant, unique_id: str) -> State:
    state = hass.states.get(entity_id(hass, "event", unique_id))
    assert state is not None
    return state


def count_changes(hass: HomeAssistant, unique_id: str) -> list[str]:
    """The event types an event entity shows, one per state change from now on."""
    seen: list[str] = []
    target = entity_id(hass, "event", unique_id)

    @callback
    def changed(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == target and new is not None:
            seen.append(new.attributes["event_type"])

    hass.bus.async_listen("state_changed", changed)
    return seen


async def test_panel_events_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        unique_id = f"{GUID}_events"
        state = event_state(hass, unique_id)
        assert state.state == STATE_UNKNOWN
        assert state.name == f"G90 panel {GUID} Events"
        assert "door_open" not in state.attributes["event_types"]
        seen = count_changes(hass, unique_id)

        await send(hass, panel, panel_state("armed_away"))
        assert event_state(hass, unique_id).attributes["event_type"] == "armed_away"
        # Zone activity is not the panel's: no change.
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
        await send(hass, panel, alarm(1, "Front door", PeripheralType.DOOR))
        state = event_state(hass, unique_id)
        assert state.attributes["event_type"] == "alarm"
        assert state.attributes["zone_index"] == 1
        assert state.attributes["zone_name"] == "Front door"
        assert state.attributes["tamper"] is False
        assert state.attributes["peripheral_type"] == 1
        await send(
            hass,
            panel,
            notification([170, [1, [4]]]),
            alarm(10, "Keyfob", PeripheralType.REMOTE, 3),
            panel_state("disarmed"),
            panel_state("ac_power_failure"),
            panel_state("ac_power_restored"),
            panel_state("panel_low_battery"),
            panel_state("wifi_disconnected"),
            panel_state("wifi_connected"),
            panel_state("armed_home"),
            notification([170, [4, [6, "Garage", 1]]]),
            notification([170, [4, [6, "Garage", 2]]]),
            notification([170, [6, [5, "Back door"]]]),
            notification([170, [8, []]]),
            activity(10, "Keyfob", AlertSource.REMOTE, 2),
        )
    assert seen == [
        "armed_away",
        "alarm",
        "alarm_triggered",
        "sos",
        "disarmed",
        "ac_power_failure",
        "ac_power_restored",
        "panel_low_battery",
        "wifi_disconnected",
        "wifi_connected",
        "armed_home",
        "sensor_added",
        "sensor_changed",
        "door_open_when_arming",
        "firmware_updating",
    ]


async def test_remote_control_buttons(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    unique_id = f"{GUID}_zone_10_buttons"
    async with connected_panel(hass, port) as panel:
        # The very first press creates the zone; it shows on the new entity too.
        await send(hass, panel, activity(10, "Keyfob", AlertSource.REMOTE, 0))
        state = event_state(hass, unique_id)
        assert state.state != STATE_UNKNOWN
        assert state.attributes["event_type"] == "arm_away"
        assert state.attributes["event_types"] == ["arm_away", "arm_home", "disarm", "sos"]
        assert state.attributes["device_class"] == "button"
        assert state.attributes["zone_index"] == 10
        assert state.name == "Keyfob Buttons"

        seen = count_changes(hass, unique_id)
        await send(
            hass,
            panel,
            activity(10, "Keyfob", AlertSource.REMOTE, 1),
            activity(10, "Keyfob", AlertSource.REMOTE, 2),
            activity(10, "Keyfob", AlertSource.REMOTE, 3),
            # Not presses of this remote's buttons: no change.
            alarm(10, "Keyfob", PeripheralType.REMOTE, 3),
            activity(10, "Keyfob", AlertSource.REMOTE, 9),
            activity(10, "Keyfob", AlertSource.RFID, 6),
            activity(14, "Other keyfob", AlertSource.REMOTE, 0),
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
        )
    assert seen == ["arm_home", "disarm", "sos", "arm_away", "arm_away"]
    assert event_state(hass, f"{GUID}_zone_14_buttons").attributes["event_type"] == "arm_away"


async def test_remote_seen_before_its_first_press(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    unique_id = f"{GUID}_zone_10_buttons"
    async with connected_panel(hass, port) as panel:
        # A remote's state nobody has described: the zone is a remote, nothing pressed.
        await send(hass, panel, activity(10, "Keyfob", AlertSource.REMOTE, 9))
        assert event_state(hass, unique_id).state == STATE_UNKNOWN
        await send(hass, panel, activity(10, "Keyfob", AlertSource.REMOTE, 2))
        assert event_state(hass, unique_id).attributes["event_type"] == "disarm"


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # zones known from reports alone
async def test_zone_becomes_a_remote(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """A zone first known only by a generic report gets its buttons on the first press."""
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, notification([170, [4, [10, "Keyfob", 1]]]))
        assert hass.states.async_entity_ids("event") == [entity_id(hass, "event", f"{GUID}_events")]
        await send(hass, panel, activity(10, "Keyfob", AlertSource.REMOTE, 3))
        state = event_state(hass, f"{GUID}_zone_10_buttons")
        assert state.attributes["event_type"] == "sos"


async def test_rfid_keypad(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    unique_id = f"{GUID}_zone_11_buttons"
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(11, "Keypad", AlertSource.RFID, 10))
        state = event_state(hass, unique_id)
        assert state.attributes["event_type"] == "card_4"
        assert state.attributes["device_class"] == "button"
        assert state.name == "Keypad Actions"
        assert state.attributes["alert_state"] == 10
        assert "state" not in state.attributes
        assert set(state.attributes["event_types"]) == {
            "arm_away",
            "arm_home",
            "disarm",
            "low_battery",
            "card_0",
            "card_1",
            "card_2",
            "card_3",
            "card_4",
        }
        seen = count_changes(hass, unique_id)
        codes = [6, 7, 8, 9, 0, 1, 2, 5]
        await send(hass, panel, *(activity(11, "Keypad", AlertSource.RFID, code) for code in codes))
        # Codes the keypad does not use are no press.
        await send(hass, panel, activity(11, "Keypad", AlertSource.RFID, 4))
    assert seen == [
        "card_0",
        "card_1",
        "card_2",
        "card_3",
        "arm_away",
        "arm_home",
        "disarm",
        "low_battery",
    ]


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # zones known from reports alone
async def test_doorbell(hass: HomeAssistant, init_integration: MockConfigEntry, port: int) -> None:
    unique_id = f"{GUID}_zone_12_buttons"
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(12, "Front bell", AlertSource.DOORBELL, 0))
        state = event_state(hass, unique_id)
        assert state.attributes["event_type"] == "ring"
        assert state.attributes["event_types"] == ["ring"]
        assert state.attributes["device_class"] == "doorbell"
        assert state.name == "Front bell Rings"
        seen = count_changes(hass, unique_id)
        await send(
            hass,
            panel,
            activity(12, "Front bell", AlertSource.DOORBELL, 1),
            activity(12, "Front bell", AlertSource.DOORBELL, 7),
        )
    assert seen == ["ring", "ring"]


async def test_an_arming_reported_twice_is_marked_repeat(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A panel reports arming as a status change and as a notification: one arming."""
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, panel_state("armed_away"), notification([170, [1, [1]]]))
        assert [(e.data["type"], e.data["repeat"]) for e in events] == [
            ("armed_away", False),
            ("armed_away", True),
        ]
        entity = event_state(hass, f"{GUID}_events")
        assert entity.attributes["event_type"] == "armed_away"
        fired_at = entity.state
        freezer.tick(timedelta(seconds=11))
        await send(hass, panel, notification([170, [1, [1]]]))
        assert events[-1].data["repeat"] is False
        assert event_state(hass, f"{GUID}_events").state != fired_at


async def test_armed_again_after_another_state_is_news_however_quick(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """Arm, disarm, arm again within seconds: three armings, none a repeat; the
    events entity shows each."""
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, panel_state("armed_away"))
        await send(hass, panel, panel_state("disarmed"))
        assert event_state(hass, f"{GUID}_events").attributes["event_type"] == "disarmed"
        await send(hass, panel, panel_state("armed_away"), notification([170, [1, [1]]]))
        assert event_state(hass, f"{GUID}_events").attributes["event_type"] == "armed_away"
        # A second alarm after a disarm and a new arming is a new alarm.
        await send(hass, panel, notification([170, [1, [4]]]))
        await send(hass, panel, panel_state("disarmed"), panel_state("armed_away"))
        await send(hass, panel, notification([170, [1, [4]]]))
    assert [(e.data["type"], e.data["repeat"]) for e in events] == [
        ("armed_away", False),
        ("disarmed", False),
        ("armed_away", False),
        ("armed_away", True),  # the same arming's second report
        ("alarm_triggered", False),
        ("disarmed", False),
        ("armed_away", False),
        ("alarm_triggered", False),
    ]


async def test_a_zone_number_no_zone_can_have_makes_no_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """A JSON report naming zone -1 (or one beyond any panel): on the bus as it came, but
    no zone, device or entity (the store could not keep it: it would be orphaned)."""
    events = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port) as panel:
        zones_before = set(init_integration.runtime_data.panels[GUID].zones)
        await send(
            hass,
            panel,
            notification([170, [5, [-1, "Odd"]]]),
            notification([170, [5, [70000, "Far"]]]),
        )
    assert [(e.data["type"], e.data["zone_index"]) for e in events] == [
        ("sensor_activity", -1),
        ("sensor_activity", 70000),
    ]
    assert set(init_integration.runtime_data.panels[GUID].zones) == zones_before
    entry_id = init_integration.entry_id
    assert zone_device(hass, entry_id, -1) is None
    assert zone_device(hass, entry_id, 70000) is None
