"""What Home Assistant knows about each panel and zone, and how events change it.

Plain data and rules, no Home Assistant wiring: the hub applies events here,
then tells entities what changed, and persists `to_dict()` so panels and
zones exist, with their last state, after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .g90.events import AlertSource, EventType, PanelEvent, PeripheralType


class ZoneKind(StrEnum):
    """What sits in a zone; decides its entities and device class."""

    SENSOR = "sensor"  # not known yet
    DOOR = "door"
    MOTION = "motion"
    SMOKE = "smoke"
    GAS = "gas"
    WATER = "water"
    VIBRATION = "vibration"
    GLASS_BREAK = "glass_break"
    SOS_BUTTON = "sos_button"
    WIRED = "wired"
    REMOTE = "remote"
    RFID = "rfid"
    DOORBELL = "doorbell"


BUTTON_KINDS = frozenset({ZoneKind.REMOTE, ZoneKind.RFID, ZoneKind.DOORBELL})
"""Zones whose devices press buttons rather than sense: they get event entities."""

KIND_BY_PERIPHERAL: dict[int, ZoneKind] = {
    PeripheralType.DOOR: ZoneKind.DOOR,
    PeripheralType.GLASS_BREAK: ZoneKind.GLASS_BREAK,
    PeripheralType.GAS: ZoneKind.GAS,
    PeripheralType.GAS_VALVE: ZoneKind.GAS,
    PeripheralType.SMOKE: ZoneKind.SMOKE,
    PeripheralType.SOS_BUTTON: ZoneKind.SOS_BUTTON,
    PeripheralType.WATCH: ZoneKind.SOS_BUTTON,
    PeripheralType.VIBRATION: ZoneKind.VIBRATION,
    PeripheralType.WATER: ZoneKind.WATER,
    PeripheralType.INFRARED: ZoneKind.MOTION,
    PeripheralType.INFRARED_BEAM: ZoneKind.MOTION,
    PeripheralType.REMOTE: ZoneKind.REMOTE,
    PeripheralType.REMOTE_2_4G: ZoneKind.REMOTE,
    PeripheralType.RFID: ZoneKind.RFID,
    PeripheralType.DOORBELL: ZoneKind.DOORBELL,
    PeripheralType.WIRED_ZONE: ZoneKind.WIRED,
    PeripheralType.WIRED_DEVICE: ZoneKind.WIRED,
}

KIND_BY_EVENT: dict[EventType, ZoneKind] = {
    EventType.DOOR_OPEN: ZoneKind.DOOR,
    EventType.DOOR_CLOSE: ZoneKind.DOOR,
    EventType.DOOR_OPEN_WHEN_ARMING: ZoneKind.DOOR,
    EventType.MOTION: ZoneKind.MOTION,
    EventType.REMOTE_BUTTON: ZoneKind.REMOTE,
    EventType.RFID: ZoneKind.RFID,
    EventType.DOORBELL: ZoneKind.DOORBELL,
}

KIND_BY_SOURCE: dict[int, ZoneKind] = {
    AlertSource.INFRARED: ZoneKind.MOTION,
    AlertSource.REMOTE: ZoneKind.REMOTE,
    AlertSource.RFID: ZoneKind.RFID,
    AlertSource.DOORBELL: ZoneKind.DOORBELL,
}


def kind_of(event: PanelEvent) -> ZoneKind | None:
    """What the event says about the kind of its zone, if anything."""
    if event.peripheral_type is not None:
        return KIND_BY_PERIPHERAL.get(event.peripheral_type)
    if event.type in KIND_BY_EVENT:
        return KIND_BY_EVENT[event.type]
    if event.source is not None:
        return KIND_BY_SOURCE.get(event.source)
    return None


class AlarmState(StrEnum):
    """The panel's state, as its events tell it."""

    DISARMED = "disarmed"
    ARMED_HOME = "armed_home"
    ARMED_AWAY = "armed_away"
    TRIGGERED = "triggered"


ALARM_STATE_BY_EVENT: dict[EventType, AlarmState] = {
    EventType.DISARMED: AlarmState.DISARMED,
    EventType.ARMED_HOME: AlarmState.ARMED_HOME,
    EventType.ARMED_AWAY: AlarmState.ARMED_AWAY,
    EventType.ALARM_TRIGGERED: AlarmState.TRIGGERED,
    EventType.ALARM: AlarmState.TRIGGERED,
    EventType.SOS: AlarmState.TRIGGERED,
}

ZONE_EVENTS = frozenset(
    {
        EventType.ALARM,
        EventType.SOS,
        EventType.DOOR_OPEN,
        EventType.DOOR_CLOSE,
        EventType.MOTION,
        EventType.SENSOR_ACTIVITY,
        EventType.LOW_BATTERY,
        EventType.TAMPER,
        EventType.REMOTE_BUTTON,
        EventType.RFID,
        EventType.DOORBELL,
        EventType.DOOR_OPEN_WHEN_ARMING,
        EventType.SENSOR_ADDED,
        EventType.SENSOR_CHANGED,
    }
)
"""Events that belong to a zone (when they carry its index)."""

PULSE_EVENTS = frozenset({EventType.MOTION, EventType.SENSOR_ACTIVITY})
"""Activity with no matching "clear" report: the zone turns off after a while."""


@dataclass(slots=True)
class ZoneState:
    """One zone (sensor, remote, keypad, doorbell) of a panel."""

    index: int
    name: str | None = None
    kind: ZoneKind = ZoneKind.SENSOR
    on: bool = False
    """Open, detecting, or in alarm."""
    latched: bool = False
    """On because of an alarm: stays on until the panel is disarmed."""
    tamper: bool = False
    low_battery: bool = False

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "on": self.on,
            "latched": self.latched,
            "tamper": self.tamper,
            "low_battery": self.low_battery,
        }

    @classmethod
    def from_dict(cls, index: int, data: dict[str, Any]) -> ZoneState:
        """From the store; tolerant of missing or odd values."""
        try:
            kind = ZoneKind(data.get("kind", ZoneKind.SENSOR))
        except ValueError:
            kind = ZoneKind.SENSOR
        # Activity that would have cleared long ago does not come back on.
        on = bool(data.get("on")) and (kind is ZoneKind.DOOR or bool(data.get("latched")))
        return cls(
            index,
            data.get("name"),
            kind,
            on,
            bool(data.get("latched")) and on,
            bool(data.get("tamper")),
            bool(data.get("low_battery")),
        )


@dataclass(slots=True)
class PanelState:
    """One panel and its zones, as Home Assistant keeps them across restarts.

    How the panel is connected right now is the listener's to know: see
    `G90Hub.status()`.
    """

    guid: str
    firmware: str | None = None
    alarm_state: AlarmState | None = None
    ac_power: bool | None = None
    wifi: bool | None = None
    battery_low: bool | None = None
    zones: dict[int, ZoneState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "firmware": self.firmware,
            "alarm_state": self.alarm_state.value if self.alarm_state else None,
            "ac_power": self.ac_power,
            "wifi": self.wifi,
            "battery_low": self.battery_low,
            "zones": {str(index): zone.to_dict() for index, zone in self.zones.items()},
        }

    @classmethod
    def from_dict(cls, guid: str, data: dict[str, Any]) -> PanelState:
        """From the store."""
        try:
            alarm_state = AlarmState(data["alarm_state"]) if data.get("alarm_state") else None
        except ValueError:
            alarm_state = None
        zones = {}
        for key, zone in (data.get("zones") or {}).items():
            if str(key).isdigit() and isinstance(zone, dict):
                zones[int(key)] = ZoneState.from_dict(int(key), zone)
        return cls(
            guid,
            data.get("firmware"),
            alarm_state,
            data.get("ac_power"),
            data.get("wifi"),
            data.get("battery_low"),
            zones,
        )


@dataclass(slots=True)
class Changes:
    """What an event changed, for the hub to pass on."""

    panel: bool = False
    zone: ZoneState | None = None
    new_zone: bool = False
    new_kind: bool = False
    """The zone's kind became known or changed."""
    pulse: bool = False
    """The zone turned on by activity that never reports clear: schedule its clearing."""
    zones_reset: bool = False
    """Disarming reset alarms, tampers and low batteries of every zone."""


def apply_event(panel: PanelState, event: PanelEvent) -> Changes:
    """Update a panel's state from one of its events."""
    changes = Changes()
    kind = event.type
    if kind in ALARM_STATE_BY_EVENT:
        new_state = ALARM_STATE_BY_EVENT[kind]
        if panel.alarm_state is not new_state:
            panel.alarm_state = new_state
            changes.panel = True
        if new_state is AlarmState.DISARMED:
            _reset_problems(panel)
            changes.zones_reset = True
    elif kind in (EventType.AC_POWER_FAILURE, EventType.AC_POWER_RESTORED):
        panel.ac_power = kind is EventType.AC_POWER_RESTORED
        changes.panel = True
    elif kind in (EventType.WIFI_CONNECTED, EventType.WIFI_DISCONNECTED):
        panel.wifi = kind is EventType.WIFI_CONNECTED
        changes.panel = True
    elif kind is EventType.PANEL_LOW_BATTERY:
        panel.battery_low = True
        changes.panel = True
    if kind in ZONE_EVENTS and event.zone_index is not None:
        _apply_zone_event(panel, event, changes)
    return changes


def _reset_problems(panel: PanelState) -> None:
    """Disarming acknowledges alarms, tampers and low batteries: they reset."""
    panel.battery_low = False if panel.battery_low is not None else None
    for zone in panel.zones.values():
        if zone.latched:
            zone.on = zone.latched = False
        zone.tamper = zone.low_battery = False


def _apply_zone_event(panel: PanelState, event: PanelEvent, changes: Changes) -> None:
    assert event.zone_index is not None
    zone = panel.zones.get(event.zone_index)
    if zone is None:
        zone = panel.zones[event.zone_index] = ZoneState(event.zone_index)
        changes.new_zone = True
    changes.zone = zone
    if event.zone_name and event.zone_name != zone.name:
        zone.name = event.zone_name
    kind = kind_of(event)
    if kind is not None and kind is not zone.kind:
        # A peripheral type (from an alarm) is authoritative unless it is the
        # generic "wired"; what an event implies only fills in the unknown.
        from_alarm = event.peripheral_type is not None and kind is not ZoneKind.WIRED
        if from_alarm or zone.kind in (ZoneKind.SENSOR, ZoneKind.WIRED):
            zone.kind = kind
            changes.new_kind = True
    match event.type:
        case EventType.DOOR_OPEN:
            zone.on = True
        case EventType.DOOR_CLOSE:
            zone.on = zone.latched = False
        case EventType.MOTION | EventType.SENSOR_ACTIVITY:
            zone.on = True
            changes.pulse = not zone.latched
        case EventType.ALARM | EventType.SOS | EventType.DOOR_OPEN_WHEN_ARMING:
            if event.tamper:
                zone.tamper = True
            elif zone.kind not in BUTTON_KINDS:
                zone.on = zone.latched = True
        case EventType.TAMPER:
            zone.tamper = True
        case EventType.LOW_BATTERY:
            zone.low_battery = True
        case EventType.RFID if event.action == "low_battery":
            zone.low_battery = True
        case _:
            pass
