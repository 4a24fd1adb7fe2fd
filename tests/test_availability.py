"""Entities become unavailable when their panel is silent, and come back when it is heard."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.g90_cloud.const import CONNECTED_WITHIN, DOMAIN

from .common import (
    GUID,
    LISTEN_ONLY,
    AlertSource,
    activity,
    connected_panel,
    entity_id,
    panel_state,
    send,
)

UNAVAILABLE_LOG = f"Panel {GUID} has not been heard from for 0:03:00"
BACK_LOG = f"Panel {GUID} is heard from again"

FOLLOW_THE_PANEL = [
    ("alarm_control_panel", f"{GUID}_alarm"),
    ("binary_sensor", f"{GUID}_ac_power"),
    ("binary_sensor", f"{GUID}_wifi"),
    ("binary_sensor", f"{GUID}_battery"),
    ("binary_sensor", f"{GUID}_zone_1"),
    ("binary_sensor", f"{GUID}_zone_1_tamper"),
    ("binary_sensor", f"{GUID}_zone_10_low_battery"),
    ("event", f"{GUID}_events"),
    ("event", f"{GUID}_zone_10_buttons"),
]
"""Entities that show the panel's last report: unavailable while it is silent."""

TELL_THE_SILENCE = [
    ("binary_sensor", f"{GUID}_connected"),
    ("sensor", f"{GUID}_last_panel_packet"),
]
"""Entities that tell a silent panel apart: always available."""


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    state = hass.states.get(entity_id(hass, platform, unique_id))
    assert state is not None
    return state.state


def unavailable(hass: HomeAssistant) -> list[str]:
    """The panel's entities that show unavailable now."""
    return [
        unique_id
        for platform, unique_id in FOLLOW_THE_PANEL + TELL_THE_SILENCE
        if state_of(hass, platform, unique_id) == STATE_UNAVAILABLE
    ]


def log_lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def pass_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Let time pass: the hub's periodic health refresh runs."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def count_writes(hass: HomeAssistant, platform: str, unique_id: str) -> list[str]:
    """Each write of the entity's state from now on (changed or not), as the state written."""
    target = entity_id(hass, platform, unique_id)
    writes: list[str] = []

    @callback
    def is_target(data: Any) -> bool:
        return bool(data["entity_id"] == target)

    @callback
    def written(event: Event[Any]) -> None:
        writes.append(event.data["new_state"].state)

    for event_type in (EVENT_STATE_CHANGED, EVENT_STATE_REPORTED):
        hass.bus.async_listen(event_type, written, event_filter=is_target)
    return writes


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # the state it had, not read anew
async def test_silent_panel_goes_unavailable_and_comes_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=f"custom_components.{DOMAIN}")
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(1, "Front door", AlertSource.SENSOR, 1),
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
            panel_state("armed_away"),
        )
        assert unavailable(hass) == []
        # Heard within the window: still available.
        await pass_time(hass, freezer, CONNECTED_WITHIN - timedelta(seconds=10))
        assert unavailable(hass) == []
        await send(hass, panel)  # a ping
        await pass_time(hass, freezer, CONNECTED_WITHIN - timedelta(seconds=10))
        assert unavailable(hass) == []

        # Silent for longer than the window (the socket may still be open).
        await pass_time(hass, freezer, timedelta(seconds=31))
        assert unavailable(hass) == [unique_id for _platform, unique_id in FOLLOW_THE_PANEL]
        assert state_of(hass, "binary_sensor", f"{GUID}_connected") == STATE_OFF
        assert log_lines(caplog, UNAVAILABLE_LOG) == 1
    # Logged once, not at every refresh.
    await pass_time(hass, freezer, timedelta(minutes=2))
    assert log_lines(caplog, UNAVAILABLE_LOG) == 1
    assert log_lines(caplog, BACK_LOG) == 0

    # Heard again (its hello is enough): available, with the state it had.
    async with connected_panel(hass, port) as panel:
        assert unavailable(hass) == []
        assert state_of(hass, "binary_sensor", f"{GUID}_zone_1") == STATE_ON
        assert state_of(hass, "alarm_control_panel", f"{GUID}_alarm") == "armed_away"
        assert state_of(hass, "binary_sensor", f"{GUID}_connected") == STATE_ON
        assert log_lines(caplog, BACK_LOG) == 1
        await send(hass, panel)
        await pass_time(hass, freezer, timedelta(seconds=31))
    assert log_lines(caplog, BACK_LOG) == 1
    assert log_lines(caplog, UNAVAILABLE_LOG) == 1


async def test_event_entities_write_once_per_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(
            hass,
            panel,
            activity(10, "Keyfob", AlertSource.REMOTE, 0),
            activity(1, "Front door", AlertSource.SENSOR, 0),
        )
        panel_events = count_writes(hass, "event", f"{GUID}_events")
        buttons = count_writes(hass, "event", f"{GUID}_zone_10_buttons")
        door = count_writes(hass, "binary_sensor", f"{GUID}_zone_1")
        await send(
            hass,
            panel,
            panel_state("ac_power_failure"),  # a panel event, and a panel state change
            activity(1, "Front door", AlertSource.SENSOR, 1),  # zone state only
            panel_state("armed_away"),  # a panel event, and a panel state change
            activity(10, "Keyfob", AlertSource.REMOTE, 1),  # a press (and a zone update)
            activity(1, "Front door", AlertSource.SENSOR, 0),  # zone state only
        )
        await send(hass, panel)  # a ping: the panel's health only
        assert len(panel_events) == 2
        assert len(buttons) == 1
        assert door == [STATE_ON, STATE_OFF]

    # Availability changes write them too, once each way.
    await pass_time(hass, freezer, CONNECTED_WITHIN + timedelta(seconds=31))
    async with connected_panel(hass, port):
        pass
    assert panel_events[2:] == [STATE_UNAVAILABLE, panel_events[1]]
    assert buttons[1:] == [STATE_UNAVAILABLE, buttons[0]]


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # the press reveals the zone
async def test_the_first_press_is_written_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    """The press that reveals a remote shows on its new entity in the entity's first write."""
    writes: list[str] = []

    @callback
    def written(event: Event[Any]) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"].startswith("event.keyfob") and new is not None:
            writes.append(new.attributes.get("event_type", new.state))

    hass.bus.async_listen(EVENT_STATE_CHANGED, written)
    hass.bus.async_listen(
        EVENT_STATE_REPORTED,
        written,
        event_filter=callback(lambda data: data["entity_id"].startswith("event.keyfob")),
    )
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, activity(10, "Keyfob", AlertSource.REMOTE, 2))
    assert writes == ["disarm"]
