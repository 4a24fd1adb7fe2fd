"""What panels report: applied to the state, shown by the entities, fired on the bus.

Path of an event: `PanelReports.receive` -> `model.apply_event` -> devices and
new entities -> subscribed entities notified -> entities handed the event
(unless it repeats one) -> `g90_cloud_event` on the bus -> state saved (soon).
An event replayed from the panel's history (`replay`) takes the same path,
but is handed to no entity: it is fired with `replayed: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import time
from typing import Any, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import EVENT_G90, REPEAT_WINDOW
from .devices import PanelDevices
from .g90.events import EventType, PanelEvent
from .model import ALARM_STATE_BY_EVENT, AlarmState, PanelState, ZoneState, apply_event
from .signals import NewZone, Signals

REPORTED_TWICE = frozenset(
    {EventType.ARMED_AWAY, EventType.ARMED_HOME, EventType.DISARMED, EventType.ALARM_TRIGGERED}
)
"""Panel states a panel reports both as a status change and as a notification."""

SENSOR_LIST_EVENTS = frozenset({EventType.SENSOR_ADDED, EventType.SENSOR_CHANGED})
"""The panel says its sensor list changed: it is read again at once."""


class Owner(Protocol):
    """What the reports ask of the hub."""

    def panel(self, guid: str) -> PanelState:
        """The panel's state, made when it is new."""

    def save(self) -> None:
        """Have the state written soon."""

    def state_reported(self, guid: str, state: AlarmState) -> None:
        """The panel told its state (an arming on its way is answered)."""

    def sensors_changed(self, guid: str) -> None:
        """The panel said its sensor list changed."""


class ZoneClearing:
    """Zones that turn off by themselves: activity never reported clear, closings not reported."""

    def __init__(self, hass: HomeAssistant, signals: Signals, save: Callable[[], None]) -> None:
        """`save()` has the state written soon."""
        self._hass = hass
        self._signals = signals
        self._save = save
        self._timers: dict[tuple[str, int], CALLBACK_TYPE] = {}

    @callback
    def schedule(self, panel: PanelState, zone: ZoneState, after: timedelta) -> None:
        """Clear the zone after `after` (see ZoneState.clear: an alarm holds it on)."""
        key = (panel.guid, zone.index)
        self.cancel(*key)

        @callback
        def clear(_now: datetime) -> None:
            self._timers.pop(key, None)
            before = (zone.on, zone.open)
            zone.clear()
            if (zone.on, zone.open) != before:
                if zone.on != before[0]:
                    self._signals.notify((panel.guid, str(zone.index)))
                self._save()

        self._timers[key] = async_call_later(self._hass, after, clear)

    @callback
    def cancel(self, guid: str, index: int) -> None:
        """The zone is gone: nothing to clear."""
        if (cancel := self._timers.pop((guid, index), None)) is not None:
            cancel()

    @callback
    def stop(self) -> None:
        """Nothing clears any more."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()


class PanelReports:
    """Takes in the events of the panels of one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        owner: Owner,
        devices: PanelDevices,
        signals: Signals,
        clearing: ZoneClearing,
    ) -> None:
        """Events reach Home Assistant through these."""
        self._hass = hass
        self._owner = owner
        self._devices = devices
        self._signals = signals
        self._clearing = clearing
        self._last_report: dict[str, tuple[EventType, float]] = {}
        """Per panel: the state it reported last (of REPORTED_TWICE), and when."""
        self.unattributed = 0
        """Events of connections that never said which panel they are."""

    @callback
    def receive(self, event: PanelEvent) -> None:
        """An event a panel reported live."""
        if event.guid is None:
            # A connection that never said hello: no panel to pin it on, but
            # automations listening on the bus still hear it.
            self.unattributed += 1
            self._hass.bus.async_fire(EVENT_G90, event_data(event, None))
            return
        panel = self._owner.panel(event.guid)
        # Entities added for a zone this event reveals show it from their first
        # state (NewZone.event): they are not handed it a second time below.
        handlers = self._signals.event_handlers(panel.guid)
        self._apply(panel, event, revealed_by=event)
        if event.type in ALARM_STATE_BY_EVENT:
            self._owner.state_reported(panel.guid, ALARM_STATE_BY_EVENT[event.type])
        if event.type in SENSOR_LIST_EVENTS:
            self._owner.sensors_changed(panel.guid)
        repeat = self._is_repeat(panel.guid, event)
        if not repeat:
            for handler in handlers:
                handler(event)
        device = self._devices.device_id(panel.guid)
        self._hass.bus.async_fire(EVENT_G90, event_data(event, device, repeat=repeat))
        self._owner.save()

    @callback
    def replay(self, panel: PanelState, event: PanelEvent, age: timedelta) -> None:
        """An event the panel reported while Home Assistant was away, `age` ago.

        It changes the state as it would have, and is fired on the bus; the
        entities are not handed it (it is no news), nor does it answer an arming.
        """
        self._apply(panel, event, age=age)
        device = self._devices.device_id(panel.guid)
        self._hass.bus.async_fire(EVENT_G90, event_data(event, device, replayed=True))
        self._owner.save()

    @callback
    def reapply(self, panel: PanelState, event: PanelEvent, age: timedelta) -> None:
        """A live event once more, to the state only: after older events replayed late."""
        self._apply(panel, event, age=age)

    @callback
    def _apply(
        self,
        panel: PanelState,
        event: PanelEvent,
        *,
        age: timedelta = timedelta(0),
        revealed_by: PanelEvent | None = None,
    ) -> None:
        """The event's change to the state, and to the devices and entities that show it."""
        changes = apply_event(panel, event)
        if changes.zone is not None:
            zone = changes.zone
            if changes.new_zone:
                self._devices.ensure_zone(panel, zone)
            else:
                self._devices.update_zone(panel, zone)
            if changes.new_zone or changes.new_kind:
                self._signals.zone_added(NewZone(panel, zone, revealed_by))
            if changes.clear_after is not None:
                if age < changes.clear_after:
                    self._clearing.schedule(panel, zone, changes.clear_after - age)
                else:  # long over: it would have cleared by now
                    self._clearing.cancel(panel.guid, zone.index)
                    zone.clear()
            self._signals.notify((panel.guid, str(zone.index)))
        if changes.zones_reset:
            for index in list(panel.zones):
                self._signals.notify((panel.guid, str(index)))
        self._signals.notify((panel.guid,))

    def _is_repeat(self, guid: str, event: PanelEvent) -> bool:
        """Whether this is the second report of one arming (panels send binary and JSON).

        Only a report of the state reported last, within the window: armed,
        disarmed, armed again is two armings however quick.
        """
        if event.type not in REPORTED_TWICE:
            return False
        now = time.monotonic()
        last = self._last_report.get(guid)
        self._last_report[guid] = (event.type, now)
        return (
            last is not None
            and last[0] is event.type
            and now - last[1] < REPEAT_WINDOW.total_seconds()
        )


def event_data(
    event: PanelEvent, device_id: str | None, *, repeat: bool = False, replayed: bool = False
) -> dict[str, Any]:
    """The `g90_cloud_event` of a panel's event.

    `replayed`: read from the panel's history, after Home Assistant missed it
    (its `panel_time` says when it happened, on the panel's clock).
    """
    data = event.fields()
    data.pop("raw", None)
    return {
        "device_id": device_id,
        "guid": event.guid,
        **data,
        "repeat": repeat,
        "replayed": replayed,
    }
