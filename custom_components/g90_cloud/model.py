"""What Home Assistant knows about each panel and zone, and how events change it.

Plain data and rules, no Home Assistant wiring: the hub applies events here,
then tells entities what changed, and persists `to_dict()` so panels and
zones exist, with their last state, after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
import ipaddress
import json
from typing import Any, Final

from .const import ACTIVITY_CLEARS_AFTER, DOOR_CLEARS_AFTER
from .g90.commands import (
    AlertFlags,
    CommandCode,
    DeviceRecord,
    HostInfo,
    HostStatus,
    ReplyError,
    decode_host_info,
)
from .g90.events import AlertSource, EventType, PanelEvent, PeripheralType
from .watermark import Watermark


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


def kind_of_record(record: DeviceRecord) -> ZoneKind:
    """What the panel's sensor list says sits in a zone; wired sensors (126) by their subtype."""
    if record.peripheral_type == PeripheralType.WIRED_ZONE:
        return KIND_BY_PERIPHERAL.get(record.subtype, ZoneKind.WIRED)
    return KIND_BY_PERIPHERAL.get(record.peripheral_type, ZoneKind.SENSOR)


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

ALARM_STATE_BY_ARM_STATE: Final[dict[int, AlarmState]] = {
    1: AlarmState.ARMED_AWAY,
    2: AlarmState.ARMED_HOME,
    3: AlarmState.DISARMED,
    4: AlarmState.TRIGGERED,
}
"""The panel's state as command 100 reports it (the ArmState numbers)."""

WIFI_UP: Final = 2
"""Host info WiFi status from which the panel is on its WiFi (2: no server, 3: working)."""

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
    open: bool = False
    """A door's contact as last reported: what the zone shows once an alarm on it is over."""
    listed: bool = False
    """In the panel's sensor list: gone from a later list means deleted on the panel."""
    enabled: bool | None = None
    """The sensor's "enabled" flag in the panel's list (None: not listed yet)."""

    def clear(self) -> None:
        """Off by itself: activity that never reports its end, or an unreported closing.

        A zone in alarm stays on until disarmed; its door is taken as closed all the same.
        """
        self.open = False
        if not self.latched:
            self.on = False

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "on": self.on,
            "latched": self.latched,
            "tamper": self.tamper,
            "low_battery": self.low_battery,
            "open": self.open,
            "listed": self.listed,
            "enabled": self.enabled,
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
            bool(data.get("open")) and kind is ZoneKind.DOOR,
            bool(data.get("listed")),
            _bool_or_none(data.get("enabled")),
        )


@dataclass(slots=True)
class RelayState:
    """One relay (socket, siren, switch...) of a panel's relay list."""

    index: int
    name: str = ""
    peripheral_type: int = 0
    channels: int = 1
    on: dict[int, bool] = field(default_factory=dict)
    """Per channel (0-based), the state last commanded: a panel cannot report it."""

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "name": self.name,
            "peripheral_type": self.peripheral_type,
            "channels": self.channels,
            "on": {str(channel): on for channel, on in self.on.items()},
        }

    @classmethod
    def from_dict(cls, index: int, data: dict[str, Any]) -> RelayState:
        """From the store; tolerant of missing or odd values."""
        channels = data.get("channels")
        channels = channels if type(channels) is int and channels >= 1 else 1
        states = data.get("on")
        if not isinstance(states, dict):
            states = {}
        on = {
            int(channel): value
            for channel, value in states.items()
            if str(channel).isdigit() and int(channel) < channels and isinstance(value, bool)
        }
        peripheral_type = data.get("peripheral_type")
        return cls(
            index,
            str(data.get("name") or ""),
            peripheral_type if type(peripheral_type) is int else 0,
            channels,
            on,
        )


def _bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int else None


def _ipv4_or_none(value: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _stored_info(values: Any) -> HostInfo | None:
    """Host info as stored (the reply's values), read back with the reply's own checks."""
    if not isinstance(values, list):
        return None
    try:
        return decode_host_info(json.dumps([CommandCode.GET_HOST_INFO, values]))
    except ReplyError:
        return None


def _indexed[T](data: Any, read: Callable[[int, dict[str, Any]], T]) -> dict[int, T]:
    """`{"index": {...}}` from the store, entries that are not one left out."""
    items: dict[int, T] = {}
    for key, value in (data or {}).items() if isinstance(data, dict) else ():
        if str(key).isdigit() and isinstance(value, dict):
            items[int(key)] = read(int(key), value)
    return items


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
    product: str | None = None
    """The panel's product name (e.g. TSV018-C3SIA), as it tells when asked."""
    hardware: str | None = None
    """Its MCU and WiFi hardware versions, as it tells when asked."""
    info: HostInfo | None = None
    """The panel's last host info (radios, signal, battery voltage)."""
    alert_flags: int | None = None
    """The panel's alert switches as last read or written (unknown bits included)."""
    lan_address: str | None = None
    """The panel's address on the LAN, from its connection: where commands go over UDP."""
    relays: dict[int, RelayState] = field(default_factory=dict)
    watermark: Watermark = field(default_factory=Watermark)
    """How far its events have been followed: what its history has to replay."""

    @property
    def doors_report_closing(self) -> bool:
        """False when the panel's door-close alerts are known to be off: no door reports closing."""
        return self.alert_flags is None or bool(self.alert_flags & AlertFlags.DOOR_CLOSE)

    def to_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "firmware": self.firmware,
            "alarm_state": self.alarm_state.value if self.alarm_state else None,
            "ac_power": self.ac_power,
            "wifi": self.wifi,
            "battery_low": self.battery_low,
            "zones": {str(index): zone.to_dict() for index, zone in self.zones.items()},
            "product": self.product,
            "hardware": self.hardware,
            "info": self.info.values() if self.info is not None else None,
            "alert_flags": self.alert_flags,
            "lan_address": self.lan_address,
            "relays": {str(index): relay.to_dict() for index, relay in self.relays.items()},
            "watermark": self.watermark.to_dict(),
        }

    @classmethod
    def from_dict(cls, guid: str, data: dict[str, Any]) -> PanelState:
        """From the store."""
        try:
            alarm_state = AlarmState(data["alarm_state"]) if data.get("alarm_state") else None
        except ValueError:
            alarm_state = None
        alert_flags = _int_or_none(data.get("alert_flags"))
        panel = cls(
            guid,
            data.get("firmware"),
            alarm_state,
            data.get("ac_power"),
            data.get("wifi"),
            data.get("battery_low"),
            _indexed(data.get("zones"), ZoneState.from_dict),
            data.get("product") or None,
            data.get("hardware") or None,
            _stored_info(data.get("info")),
            alert_flags if alert_flags is not None and alert_flags >= 0 else None,
            _ipv4_or_none(data.get("lan_address")),
            _indexed(data.get("relays"), RelayState.from_dict),
            Watermark.from_dict(data.get("watermark")),
        )
        # A door of a panel that reports no closing was to close 3 s after it
        # opened: long over by now, and no timer survives a restart.
        for zone in doors_never_closed(panel):
            zone.clear()
        return panel


@dataclass(slots=True)
class Changes:
    """What an event changed, for the hub to pass on."""

    panel: bool = False
    zone: ZoneState | None = None
    new_zone: bool = False
    new_kind: bool = False
    """The zone's kind became known or changed."""
    clear_after: timedelta | None = None
    """The zone turned on, and no report will turn it off: clear it after this long."""
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
    if kind in ZONE_EVENTS and _is_zone_number(event.zone_index):
        _apply_zone_event(panel, event, changes)
    return changes


ZONE_NUMBERS: Final = range(1 << 16)
"""Zone numbers a zone can have (a JSON report may carry any number: -1 names no zone,
and the store keeps zones by their digits)."""


def _is_zone_number(index: int | None) -> bool:
    # Checked as an int first: `None in range(...)` would compare it with every number.
    return type(index) is int and index in ZONE_NUMBERS


def _reset_problems(panel: PanelState) -> None:
    """Disarming acknowledges alarms, tampers and low batteries: they reset."""
    panel.battery_low = False if panel.battery_low is not None else None
    for zone in panel.zones.values():
        if zone.latched:  # the alarm is over; a door still open shows open
            zone.on, zone.latched = zone.open, False
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
            zone.on = zone.open = True
            if not panel.doors_report_closing:  # its closing will never be reported
                changes.clear_after = DOOR_CLEARS_AFTER
        case EventType.DOOR_CLOSE:
            zone.on = zone.latched = zone.open = False
        case EventType.MOTION | EventType.SENSOR_ACTIVITY:
            zone.on = True
            if not zone.latched:
                changes.clear_after = ACTIVITY_CLEARS_AFTER
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


# --- what the panel tells when asked --------------------------------------------------


def apply_host_status(panel: PanelState, status: HostStatus) -> bool:
    """The panel's state and identity as command 100 tells them; True if anything changed."""
    before = (panel.alarm_state, panel.product, panel.hardware)
    state = ALARM_STATE_BY_ARM_STATE.get(int(status.state))
    if state is not None:
        panel.alarm_state = state
    _identify(panel, status.product_name, status.mcu_version, status.wifi_version)
    return (panel.alarm_state, panel.product, panel.hardware) != before


def apply_host_info(panel: PanelState, info: HostInfo) -> bool:
    """What command 206 tells: identity, radios, battery; True if anything shown changed.

    WiFi follows the panel's own account of its radio. The panel reports a low
    battery when it happens (and disarming acknowledges it): once the panel
    has been read, a battery it has not reported low shows normal.
    """
    before = (panel.product, panel.hardware, panel.info, panel.wifi, panel.battery_low)
    _identify(panel, info.product_name, info.mcu_version, info.wifi_version)
    panel.info = info
    panel.wifi = info.wifi_status >= WIFI_UP
    if panel.battery_low is None:
        panel.battery_low = False
    return (panel.product, panel.hardware, panel.info, panel.wifi, panel.battery_low) != before


def _identify(panel: PanelState, product: str, mcu_version: str, wifi_version: str) -> None:
    if product.strip():
        panel.product = product.strip()
    if mcu_version.strip() or wifi_version.strip():
        panel.hardware = f"MCU {mcu_version.strip() or '?'}, WiFi {wifi_version.strip() or '?'}"


@dataclass(slots=True)
class ListChanges:
    """What a sensor or relay list changed, by index, for the hub to pass on."""

    added: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    """Renamed, or (zones) of another kind, or (relays) with another number of channels."""
    removed: list[int] = field(default_factory=list)
    enabled: dict[int, bool] = field(default_factory=dict)
    """Zones whose "enabled" flag changed, to what it is now."""
    new_kind: list[int] = field(default_factory=list)
    """Zones whose kind changed (their entities may change)."""


def _unique(records: Iterable[DeviceRecord]) -> dict[int, DeviceRecord]:
    """The records by index; a second record claiming an index is ignored."""
    unique: dict[int, DeviceRecord] = {}
    for record in records:
        unique.setdefault(record.index, record)
    return unique


def apply_sensor_list(panel: PanelState, records: Iterable[DeviceRecord]) -> ListChanges:
    """The panel's sensor list: zones added, renamed, re-typed, enabled or gone.

    The list is the panel's own configuration, so its name and kind win over
    what events suggested. Only zones that were in an earlier list are removed
    when they leave it: a zone known from events alone may carry another
    number than the list on some firmware, and stays.
    """
    changes = ListChanges()
    listed = _unique(records)
    for index, record in listed.items():
        kind = kind_of_record(record)
        name = record.name.strip() or None
        zone = panel.zones.get(index)
        if zone is None:
            zone = panel.zones[index] = ZoneState(index, name, kind, listed=True)
            changes.added.append(index)
        else:
            zone.listed = True
            if kind is not zone.kind:
                zone.kind = kind
                changes.new_kind.append(index)
            if (name and name != zone.name) or index in changes.new_kind:
                zone.name = name or zone.name
                changes.changed.append(index)
        if record.enabled is not zone.enabled:
            zone.enabled = record.enabled
            changes.enabled[index] = record.enabled
    for index, zone in list(panel.zones.items()):
        if zone.listed and index not in listed:
            del panel.zones[index]
            changes.removed.append(index)
    return changes


def apply_relay_list(panel: PanelState, records: Iterable[DeviceRecord]) -> ListChanges:
    """The panel's relay list: relays added, renamed, re-channelled or gone."""
    changes = ListChanges()
    listed = _unique(records)
    for index, record in listed.items():
        relay = panel.relays.get(index)
        if relay is None:
            panel.relays[index] = RelayState(
                index, record.name.strip(), record.peripheral_type, record.channels
            )
            changes.added.append(index)
            continue
        if record.channels != relay.channels:
            relay.channels = record.channels
            relay.on = {channel: on for channel, on in relay.on.items() if channel < relay.channels}
            changes.changed.append(index)
        if record.name.strip() != relay.name or record.peripheral_type != relay.peripheral_type:
            relay.name, relay.peripheral_type = record.name.strip(), record.peripheral_type
            if index not in changes.changed:
                changes.changed.append(index)
    for index in list(panel.relays):
        if index not in listed:
            del panel.relays[index]
            changes.removed.append(index)
    return changes


def apply_alert_flags(panel: PanelState, flags: AlertFlags | int) -> list[ZoneState]:
    """The panel's alert switches; the doors to close now when it no longer reports closings."""
    panel.alert_flags = int(flags)
    return doors_never_closed(panel)


def doors_never_closed(panel: PanelState) -> list[ZoneState]:
    """Doors shown open whose closing the panel will not report (its door-close alerts are off)."""
    if panel.doors_report_closing:
        return []
    return [
        zone
        for zone in panel.zones.values()
        if zone.kind is ZoneKind.DOOR and (zone.open or (zone.on and not zone.latched))
    ]
