"""Event entities: the panel's alarms and state changes, and button presses.

Each remote control, RFID keypad and doorbell gets its own event entity.
"""

from __future__ import annotations

from functools import partial
from typing import Any, override

from homeassistant.components.event import EventDeviceClass, EventEntity
from homeassistant.core import CALLBACK_TYPE, callback

from .entity import G90PanelEntity, G90ZoneEntity, async_setup_panel_platform
from .g90.events import REMOTE_BUTTONS, RFID_ACTIONS, EventType, PanelEvent
from .hub import G90Hub
from .model import PanelState, ZoneKind, ZoneState

PARALLEL_UPDATES = 0

PANEL_EVENT_TYPES = [
    EventType.ALARM,
    EventType.SOS,
    EventType.ALARM_TRIGGERED,
    EventType.ARMED_AWAY,
    EventType.ARMED_HOME,
    EventType.DISARMED,
    EventType.DOOR_OPEN_WHEN_ARMING,
    EventType.AC_POWER_FAILURE,
    EventType.AC_POWER_RESTORED,
    EventType.PANEL_LOW_BATTERY,
    EventType.WIFI_CONNECTED,
    EventType.WIFI_DISCONNECTED,
    EventType.SENSOR_ADDED,
    EventType.SENSOR_CHANGED,
    EventType.FIRMWARE_UPDATING,
]

ZONE_EVENT_TYPES: dict[ZoneKind, list[str]] = {
    ZoneKind.REMOTE: list(REMOTE_BUTTONS.values()),
    ZoneKind.RFID: list(RFID_ACTIONS.values()),
    ZoneKind.DOORBELL: ["ring"],
}

ATTRIBUTES = {
    "zone_index": "zone_index",
    "zone_name": "zone_name",
    "tamper": "tamper",
    "source": "source",
    "peripheral_type": "peripheral_type",
    # Named apart from the entity's own state: this is the panel's raw alert code.
    "state": "alert_state",
}


def _attributes(event: PanelEvent) -> dict[str, Any]:
    fields = event._asdict()
    return {name: fields[key] for key, name in ATTRIBUTES.items() if fields[key] is not None}


class G90EventEntity(G90PanelEntity, EventEntity):
    """Written once for each of its events, and when the panel's availability changes.

    It follows the panel's events instead of its state: a state update of the
    panel does not write it again.
    """

    @override
    @callback
    def _async_follow(self) -> CALLBACK_TYPE:
        return self.hub.signals.subscribe_events(self.panel.guid, self._on_event)

    def _event_type_of(self, event: PanelEvent) -> str | None:
        """Which of this entity's event types `event` is, if any."""
        raise NotImplementedError

    def _trigger(self, event: PanelEvent) -> bool:
        """Take `event` as this entity's latest, if it is one of its; True if it was."""
        event_type = self._event_type_of(event)
        if event_type is None:
            return False
        self._trigger_event(event_type, _attributes(event))
        return True

    @callback
    def _on_event(self, event: PanelEvent) -> None:
        if self._trigger(event):
            self.async_write_ha_state()


class PanelEvents(G90EventEntity):
    """Alarms, SOS, arming and power events of the panel."""

    _attr_translation_key = "panel_events"
    _attr_event_types = [str(kind) for kind in PANEL_EVENT_TYPES]  # noqa: RUF012 - HA's own attribute

    def __init__(self, hub: G90Hub, panel: PanelState) -> None:
        """One per panel."""
        super().__init__(hub, panel, "events")

    @override
    def _event_type_of(self, event: PanelEvent) -> str | None:
        return event.type.value if event.type in PANEL_EVENT_TYPES else None


class ZoneButtonEvents(G90ZoneEntity, G90EventEntity):
    """A remote control's, RFID keypad's or doorbell's presses."""

    def __init__(
        self, hub: G90Hub, panel: PanelState, zone: ZoneState, first: PanelEvent | None
    ) -> None:
        """One per button zone; `first` is the press that revealed the zone."""
        super().__init__(hub, panel, zone, "buttons")
        self._first = first
        self._attr_translation_key = f"{zone.kind.value}_buttons"
        self._attr_event_types = ZONE_EVENT_TYPES[zone.kind]
        if zone.kind is ZoneKind.DOORBELL:
            self._attr_device_class = EventDeviceClass.DOORBELL
        else:
            self._attr_device_class = EventDeviceClass.BUTTON

    @override
    async def async_added_to_hass(self) -> None:
        """Show the press that revealed the zone (Home Assistant writes the state next)."""
        await super().async_added_to_hass()
        if self._first is not None:
            self._trigger(self._first)
            self._first = None

    @override
    def _event_type_of(self, event: PanelEvent) -> str | None:
        if event.zone_index != self.zone.index:
            return None
        if event.type is EventType.REMOTE_BUTTON and event.button:
            pressed = event.button
        elif event.type is EventType.RFID and event.action:
            pressed = event.action
        elif event.type is EventType.DOORBELL:
            pressed = "ring"
        else:
            return None
        return pressed if pressed in self.event_types else None


def _zone_entities(
    hub: G90Hub, panel: PanelState, zone: ZoneState, event: PanelEvent | None
) -> list[EventEntity]:
    if zone.kind in ZONE_EVENT_TYPES:
        return [ZoneButtonEvents(hub, panel, zone, event)]
    return []


def _panel_entities(hub: G90Hub, panel: PanelState) -> list[EventEntity]:
    return [PanelEvents(hub, panel)]


async_setup_entry = partial(
    async_setup_panel_platform, panel_entities=_panel_entities, zone_entities=_zone_entities
)
