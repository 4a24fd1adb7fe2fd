"""Device triggers of the panel, fired by frames sent over a real socket."""

from __future__ import annotations

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)

from custom_components.g90_cloud.const import DOMAIN
from custom_components.g90_cloud.device_trigger import (
    MISSED_TRIGGERS,
    TRIGGERS,
    async_get_triggers,
)
from custom_components.g90_cloud.devices import relay_identifier
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.hub import REPORTED_TWICE

from .common import (
    GUID,
    AlertSource,
    PeripheralType,
    activity,
    alarm,
    connected_panel,
    notification,
    panel_device,
    panel_state,
    send,
    zone_device,
)


async def setup_automation(hass: HomeAssistant, device_id: str, kind: str) -> list[ServiceCall]:
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": [
                        {
                            "trigger": "device",
                            "domain": DOMAIN,
                            "device_id": device_id,
                            "type": kind,
                        }
                    ],
                    "actions": [
                        {
                            "action": "test.automation",
                            "data": {
                                "kind": kind,
                                "event_type": "{{ trigger.event.data.type }}",
                                "zone": "{{ trigger.event.data.zone_index }}",
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    return calls


async def test_panel_lists_every_trigger(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(1, "Front door", AlertSource.SENSOR, 1))
    device = panel_device(hass, init_integration.entry_id)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = [trigger for trigger in triggers if trigger["domain"] == DOMAIN]
    assert ours == [
        {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": device.id,
            "type": kind,
            "metadata": {},
        }
        for kind in [*TRIGGERS, *MISSED_TRIGGERS]
    ]
    assert len(ours) == 17 + 2  # what the panel reports live; what it reported while away

    zone = zone_device(hass, init_integration.entry_id, 1)
    assert zone is not None
    zone_triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, zone.id)
    assert [trigger for trigger in zone_triggers if trigger["domain"] == DOMAIN] == []

    # A relay reports nothing: its device offers no trigger that could never fire.
    relay = dr.async_get(hass).async_get_device_by_identifier(
        relay_identifier(GUID, 10), init_integration.entry_id
    )
    assert relay is not None
    relay_triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, relay.id
    )
    assert [trigger for trigger in relay_triggers if trigger["domain"] == DOMAIN] == []


async def test_no_triggers_for_unknown_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert await async_get_triggers(hass, "no-such-device") == []


DOOR = PeripheralType.DOOR
REMOTE = AlertSource.REMOTE
RFID = AlertSource.RFID


CASES: dict[str, tuple[bytes, bytes]] = {
    # trigger type: (a frame it must not fire on, a frame it fires on)
    "alarm": (alarm(10, "Keyfob", PeripheralType.REMOTE, 3), alarm(1, "Door", DOOR)),
    "tamper_alarm": (alarm(1, "Door", DOOR), alarm(1, "Door", DOOR, 3)),
    "sos": (activity(10, "Keyfob", REMOTE, 3), alarm(10, "Keyfob", PeripheralType.REMOTE, 3)),
    "alarm_triggered": (alarm(1, "Door", DOOR), notification([170, [1, [4]]])),
    "armed_away": (panel_state("armed_home"), panel_state("armed_away")),
    "armed_home": (notification([170, [1, [1]]]), notification([170, [1, [2]]])),
    "disarmed": (panel_state("armed_home"), notification([170, [1, [3]]])),
    "remote_arm_away": (activity(10, "Keyfob", REMOTE, 1), activity(10, "Keyfob", REMOTE, 0)),
    "remote_arm_home": (activity(11, "Keypad", RFID, 1), activity(10, "Keyfob", REMOTE, 1)),
    "remote_disarm": (activity(11, "Keypad", RFID, 2), activity(10, "Keyfob", REMOTE, 2)),
    "remote_sos": (activity(10, "Keyfob", REMOTE, 0), activity(10, "Keyfob", REMOTE, 3)),
    "rfid_arm_away": (activity(10, "Keyfob", REMOTE, 0), activity(11, "Keypad", RFID, 0)),
    "rfid_arm_home": (activity(11, "Keypad", RFID, 0), activity(11, "Keypad", RFID, 1)),
    "rfid_disarm": (activity(11, "Keypad", RFID, 6), activity(11, "Keypad", RFID, 2)),
    "door_open_when_arming": (
        activity(5, "Back door", AlertSource.SENSOR, 1),
        notification([170, [6, [5, "Back door"]]]),
    ),
    "ac_power_failure": (panel_state("ac_power_restored"), panel_state("ac_power_failure")),
    "ac_power_restored": (panel_state("ac_power_failure"), panel_state("ac_power_restored")),
}


ANOTHER_STATE_BETWEEN = frozenset({"armed_away", "armed_home", "disarmed"})
"""Cases whose `miss` is itself an arming state (the panel changed state in between)."""


def test_every_trigger_is_tested() -> None:
    assert set(CASES) == set(TRIGGERS)


@pytest.mark.parametrize("kind", list(CASES))
async def test_trigger_fires_on_its_event_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, kind: str
) -> None:
    miss, hit = CASES[kind]
    async with connected_panel(hass, port) as panel:
        device = panel_device(hass, init_integration.entry_id)
        calls = await setup_automation(hass, device.id, kind)
        await send(hass, panel, miss)
        assert calls == []
        await send(hass, panel, hit)
        assert len(calls) == 1
        assert calls[0].data["kind"] == kind
        assert calls[0].data["event_type"] == TRIGGERS[kind]["type"]
        await send(hass, panel, hit)
        # The panel reports every arming twice; the second report within
        # REPEAT_WINDOW is marked a repeat and does not trigger again...
        twice = TRIGGERS[kind]["type"] in REPORTED_TWICE
        assert len(calls) == (1 if twice else 2)
        await send(hass, panel, miss, hit)
        # ...unless another state came in between: armed, disarmed, armed again is news.
        if not twice:
            assert len(calls) == 3
        else:
            assert len(calls) == (2 if kind in ANOTHER_STATE_BETWEEN else 1)


async def test_trigger_is_for_its_own_panel(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with (
        connected_panel(hass, port) as first,
        connected_panel(hass, port, guid="GB00000B0000000") as second,
    ):
        device = panel_device(hass, init_integration.entry_id)
        calls = await setup_automation(hass, device.id, "tamper_alarm")
        await send(hass, second, alarm(2, "Window", DOOR, 3))
        assert calls == []
        await send(hass, first, alarm(2, "Window", DOOR, 3))
        assert len(calls) == 1
        assert calls[0].data["zone"] == 2


async def test_trigger_survives_reconnection(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        pass
    device = panel_device(hass, init_integration.entry_id)
    calls = await setup_automation(hass, device.id, "remote_sos")
    panel = SimulatedPanel("127.0.0.1", port)
    async with panel:
        await panel.hello()
        await send(hass, panel, activity(10, "Keyfob", REMOTE, 3))
    assert len(calls) == 1
    assert calls[0].data["zone"] == 10
