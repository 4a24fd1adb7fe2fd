"""The logbook describes every `g90_cloud_event`; a missed one says when it happened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.logbook.models import async_event_to_row
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.g90_cloud.const import EVENT_G90
from custom_components.g90_cloud.g90.commands import HistoryRecord
from custom_components.g90_cloud.g90.panel_model import PanelModel
from custom_components.g90_cloud.logbook import describe

from .common import GUID, AlertSource, activity, connected_panel, panel_device, send


@pytest.fixture
def mock_recorder_before_hass(async_setup_recorder_instance: Any) -> None:
    """The logbook needs the recorder, set up before Home Assistant."""


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"type": "alarm", "zone_name": "Front door", "zone_index": 1}, "Alarm in Front door"),
        ({"type": "alarm", "zone_name": "Window", "tamper": True}, "Tamper alarm in Window"),
        ({"type": "sos", "zone_name": "Keyfob"}, "SOS in Keyfob"),
        ({"type": "sos"}, "SOS"),
        ({"type": "door_open", "zone_name": "Front door"}, "Front door opened"),
        ({"type": "door_close", "zone_index": 4}, "zone 4 closed"),
        ({"type": "motion", "zone_index": 7}, "Motion in zone 7"),
        ({"type": "low_battery", "zone_name": "Hall"}, "Low battery in Hall"),
        (
            {"type": "remote_button", "zone_name": "Keyfob", "button": "arm_away"},
            "Arm away on Keyfob",
        ),
        ({"type": "remote_button", "zone_name": "Keyfob", "button": "sos"}, "SOS on Keyfob"),
        ({"type": "rfid", "zone_name": "Keypad", "action": "card_1"}, "Card 1 on Keypad"),
        ({"type": "doorbell", "zone_name": "Bell"}, "Ring on Bell"),
        ({"type": "armed_away"}, "Armed away"),
        ({"type": "ac_power_failure"}, "AC power failure"),
        ({"type": "wifi_disconnected"}, "WiFi disconnected"),
        ({"type": "unknown", "detail": "odd"}, "Unknown event"),
        ({}, "Unknown event"),
    ],
)
def test_events_in_words(data: dict[str, Any], text: str) -> None:
    assert describe({**data, "replayed": False}) == text


def test_a_missed_event_says_when(freezer: FrozenDateTimeFactory) -> None:
    """In Home Assistant's time zone, the date only when it is not today."""
    freezer.move_to(datetime(2026, 1, 4, 12, 0, tzinfo=dt_util.get_default_time_zone()))
    local = datetime(2026, 1, 4, 3, 12, tzinfo=dt_util.get_default_time_zone())
    alarm = {"type": "alarm", "zone_name": "Front door", "replayed": True}
    assert (
        describe(alarm | {"panel_time": dt_util.as_utc(local).isoformat()})
        == "Alarm in Front door at 03:12, while Home Assistant was offline"
    )
    yesterday = dt_util.as_utc(local - timedelta(days=1)).isoformat()
    assert (
        describe(alarm | {"panel_time": yesterday})
        == "Alarm in Front door at 2026-01-03 03:12, while Home Assistant was offline"
    )
    # A panel clock two hours ahead: the time it really happened.
    ahead = dt_util.as_utc(local + timedelta(hours=2)).isoformat()
    assert describe(alarm | {"panel_time": ahead}, clock_offset=7200) == (
        "Alarm in Front door at 03:12, while Home Assistant was offline"
    )
    assert describe(alarm) == "Alarm in Front door, while Home Assistant was offline"
    assert describe(alarm | {"panel_time": "not a time"}) == (
        "Alarm in Front door, while Home Assistant was offline"
    )


async def test_the_logbook_shows_what_was_missed(
    recorder_mock: Any, hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    assert await async_setup_component(hass, "logbook", {})
    now = int(dt_util.utcnow().timestamp())
    model = PanelModel()
    bus = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port, model=model) as sim:
        await send(hass, sim, activity(1, "Front door", AlertSource.SENSOR, 1, now))
    model.history.insert(0, HistoryRecord(3, 3, 1, 1, "Window", now + 1))
    async with connected_panel(hass, port, model=model):
        pass
    # A connection that never said which panel it is has no device to name.
    hass.bus.async_fire(EVENT_G90, {"type": "disarmed", "guid": None, "device_id": None})
    await hass.async_block_till_done()

    entries = EventProcessor(hass, (EVENT_G90,)).humanify(
        [async_event_to_row(event) for event in bus]
    )
    name = panel_device(hass, init_integration.entry_id).name
    when = dt_util.as_local(dt_util.utc_from_timestamp(now + 1)).strftime("%H:%M")
    assert [(entry["name"], entry["message"]) for entry in entries] == [
        (name, "Front door opened"),
        (name, f"Alarm in Window at {when}, while Home Assistant was offline"),
        ("G90 panel", "Disarmed"),
    ]
    assert name == f"G90 panel {GUID}"
